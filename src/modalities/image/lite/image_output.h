// The torch-free part of the image modality: its sampling defaults, which
// model files are images, and the writer of generated images (PNG grid or IDX
// pair). The launcher's torch-free generate (lite/cli.h) uses the same, so
// both write alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/config.h"
#include "io/labels.h"

namespace cvae::modalities::image {

inline constexpr const char* kName = "image";

// "auto" sampling for images: --temperature scales the latent sampler
// (kImageLatentTemperature), each sample the best of kImageCandidates.
inline constexpr core::SamplingDefaults kSamplingDefaults{true, kImageLatentTemperature,
                                                          kImageCandidates};

// Whether a model config is of images: it names the image modality, or it
// names none (files written before the modality was stored) and has no
// vocabulary (text models always have one).
bool is_image_model(const ModelConfig& cfg);

// Writes n samples per row of `rows`, label-major, as bytes of shape
// example_shape (C x H x W) each: format "png" (a grid, io::sample_grid_shape)
// to out, or "idx" (PREFIX-images/labels-idx, io::idx_prefix(out)). out ""
// means samples.png. Returns the files written.
std::vector<std::string> write_image_samples(std::string out, const std::string& format,
                                             std::vector<uint8_t> bytes,
                                             const std::vector<int64_t>& example_shape,
                                             const io::LabelRows& rows, int64_t n);

}  // namespace cvae::modalities::image
