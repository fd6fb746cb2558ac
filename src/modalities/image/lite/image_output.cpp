#include "modalities/image/lite/image_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "io/idx.h"
#include "io/png.h"

namespace cvae::modalities::image {

bool is_image_model(const ModelConfig& cfg) {
  return cfg.modality == kName || (cfg.modality.empty() && cfg.vocabulary.empty());
}

std::vector<std::string> write_image_samples(std::string out, const std::string& format,
                                             std::vector<uint8_t> bytes,
                                             const std::vector<int64_t>& example_shape,
                                             const io::LabelRows& rows, int64_t n) {
  if (out.empty()) out = "samples.png";
  core::create_parent_dirs(out);
  const int64_t m = static_cast<int64_t>(rows.size()), total = m * n;
  std::vector<int64_t> shape = {total};
  shape.insert(shape.end(), example_shape.begin(), example_shape.end());
  if (format == "idx") {
    io::LabelRows labels;
    for (const auto& r : rows) labels.insert(labels.end(), static_cast<size_t>(n), r);
    return io::write_idx_samples(io::idx_prefix(out), std::move(bytes), shape, labels);
  }
  if (shape.size() != 4)
    throw ConfigError(fmt::format("PNG output needs an image model (input shape C x H x W; got {})",
                                  fmt::join(example_shape, "x")));
  const auto [grid_rows, cols] = io::sample_grid_shape(m, n);
  io::write_image_grid(out, bytes, total, shape[1], shape[2], shape[3], grid_rows, cols);
  return {out};
}

}  // namespace cvae::modalities::image
