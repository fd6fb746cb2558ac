#include "serve/generate_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "data/idx.h"
#include "data/png.h"

namespace cvae::serve {

void check_generate_request(const GenerateRequest& req) {
  if (req.n < 1 || req.n > 100000) {
    throw ConfigError(fmt::format("-n out of range (got {} vs expected 1..100000)", req.n));
  }
  if (req.format != "auto" && req.format != "png" && req.format != "idx" && req.format != "tsv") {
    throw ConfigError(
        fmt::format("unknown --format (got '{}' vs expected auto, png, idx or tsv)", req.format));
  }
}

void check_sample_count(int64_t labels, int64_t n) {
  if (labels * n > 1000000) {
    throw ConfigError(fmt::format(
        "too many samples (got {} labels x {} vs expected at most 1000000)", labels, n));
  }
}

std::vector<std::string> write_image_samples(std::string out, const std::string& format,
                                             std::vector<uint8_t> bytes,
                                             const std::vector<int64_t>& example_shape,
                                             const data::LabelRows& rows, int64_t n) {
  if (out.empty()) out = "samples.png";
  core::create_parent_dirs(out);
  const int64_t m = static_cast<int64_t>(rows.size()), total = m * n;
  std::vector<int64_t> shape = {total};
  shape.insert(shape.end(), example_shape.begin(), example_shape.end());
  if (format == "idx") {
    data::LabelRows labels;
    for (const auto& r : rows) labels.insert(labels.end(), static_cast<size_t>(n), r);
    return data::write_idx_samples(data::idx_prefix(out), std::move(bytes), shape, labels);
  }
  if (shape.size() != 4)
    throw ConfigError(fmt::format("PNG output needs an image model (input shape C x H x W; got {})",
                                  fmt::join(example_shape, "x")));
  const auto [grid_rows, cols] = data::sample_grid_shape(m, n);
  data::write_image_grid(out, bytes, total, shape[1], shape[2], shape[3], grid_rows, cols);
  return {out};
}

std::string generate_summary(const GenerateResult& r, int64_t n) {
  return fmt::format("wrote {} ({} samples: {} for each of {} label(s): {})",
                     fmt::join(r.files, " and "), r.count, n, r.labels.size(),
                     fmt::join(r.labels, " "));
}

}  // namespace cvae::serve
