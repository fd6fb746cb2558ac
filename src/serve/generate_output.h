// The torch-free parts of cvae::generate for images: checking a request,
// writing the samples, and the summary line. The launcher's torch-free
// generate (lite/cli.h) uses the same, so both check, write and report alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "data/labels.h"

namespace cvae::serve {

// -n within 1..100000 and --format one of auto, png, idx, tsv (ConfigError).
void check_generate_request(const GenerateRequest& req);
// At most 1,000,000 samples: `labels` label rows x n each (ConfigError).
void check_sample_count(int64_t labels, int64_t n);

// Writes n samples per row of `rows`, label-major, as bytes of shape
// example_shape (C x H x W) each: format "png" (a grid, data::sample_grid_shape)
// to out, or "idx" (PREFIX-images/labels-idx, data::idx_prefix(out)). out ""
// means samples.png. Returns the files written.
std::vector<std::string> write_image_samples(std::string out, const std::string& format,
                                             std::vector<uint8_t> bytes,
                                             const std::vector<int64_t>& example_shape,
                                             const data::LabelRows& rows, int64_t n);

// "wrote FILES (COUNT samples: n for each of M label(s): NAMES)"
std::string generate_summary(const GenerateResult& r, int64_t n);

}  // namespace cvae::serve
