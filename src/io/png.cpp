#include "io/png.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"

namespace cvae::io {
namespace {

// Largest grid side in pixels; PNG allows more but nothing we make comes close.
constexpr int64_t kMaxSide = int64_t{1} << 20;

void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

}  // namespace

void write_image_grid(const std::string& path, const std::vector<uint8_t>& images, int64_t n,
                      int64_t c, int64_t h, int64_t w, int64_t rows, int64_t cols) {
  if (c != 1 && c != 3) {
    throw ConfigError(
        fmt::format("PNG output needs images of shape C x H x W with C = 1 or 3 (got C = {})", c));
  }
  write_png(path, make_grid(images, n, c, h, w, rows, cols));
}

std::pair<int64_t, int64_t> sample_grid_shape(int64_t labels, int64_t per_label) {
  if (labels != 1) return {labels, per_label};
  const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(per_label))));
  return {(per_label + cols - 1) / cols, cols};
}

Image make_grid(const std::vector<uint8_t>& images, int64_t n, int64_t c, int64_t h, int64_t w,
                int64_t rows, int64_t cols, int64_t pad, uint8_t pad_value) {
  if (n < 0 || c < 1 || c > 4 || h < 1 || w < 1 || rows < 1 || cols < 1 || pad < 0) {
    throw ConfigError(fmt::format(
        "bad image grid: {} images of {}x{}x{} (channels x height x width) in {} rows x {} cols "
        "with pad {} (expected n >= 0, 1 to 4 channels, sizes >= 1, pad >= 0)",
        n, c, h, w, rows, cols, pad));
  }
  if (rows > kMaxSide || cols > kMaxSide || h > kMaxSide || w > kMaxSide || pad > kMaxSide) {
    throw ConfigError(fmt::format("bad image grid: a size is over {} pixels", kMaxSide));
  }
  if (rows * cols < n) {
    throw ConfigError(
        fmt::format("image grid too small: got {} rows x {} cols = {} tiles vs {} images", rows,
                    cols, rows * cols, n));
  }
  int64_t expected = 0;
  const bool overflow = __builtin_mul_overflow(n, c * h * w, &expected);
  if (overflow || static_cast<int64_t>(images.size()) != expected) {
    throw ConfigError(
        fmt::format("bad image grid input: got {} bytes vs expected {} for {} images of {}x{}x{}",
                    images.size(), expected, n, c, h, w));
  }
  Image g;
  g.height = rows * h + (rows + 1) * pad;
  g.width = cols * w + (cols + 1) * pad;
  g.channels = c;
  if (g.height > kMaxSide || g.width > kMaxSide || g.height * g.width * c > INT_MAX) {
    throw ConfigError(
        fmt::format("image grid too large: {}x{} pixels x {} channels", g.height, g.width, c));
  }
  g.pixels.assign(static_cast<size_t>(g.height * g.width * c), pad_value);
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = pad + (i / cols) * (h + pad);
    const int64_t left = pad + (i % cols) * (w + pad);
    const uint8_t* src = images.data() + i * c * plane;
    for (int64_t y = 0; y < h; ++y) {
      uint8_t* row = g.pixels.data() + ((top + y) * g.width + left) * c;
      for (int64_t x = 0; x < w; ++x) {
        for (int64_t ch = 0; ch < c; ++ch) row[x * c + ch] = src[ch * plane + y * w + x];
      }
    }
  }
  return g;
}

void write_png(const std::string& path, const Image& img) {
  if (img.channels < 1 || img.channels > 4 || img.height < 1 || img.width < 1 ||
      img.height > kMaxSide || img.width > kMaxSide ||
      img.width * img.channels * img.height > INT_MAX) {
    throw ConfigError(fmt::format("cannot write '{}': bad image size {}x{} with {} channels", path,
                                  img.height, img.width, img.channels));
  }
  const int64_t expected = img.height * img.width * img.channels;
  if (static_cast<int64_t>(img.pixels.size()) != expected) {
    throw ConfigError(fmt::format(
        "cannot write '{}': got {} pixel bytes vs expected {} for {}x{} with {} channels", path,
        img.pixels.size(), expected, img.height, img.width, img.channels));
  }
  std::string png;
  const int ok =
      stbi_write_png_to_func(append_to_string, &png, static_cast<int>(img.width),
                             static_cast<int>(img.height), static_cast<int>(img.channels),
                             img.pixels.data(), static_cast<int>(img.width * img.channels));
  if (!ok || png.empty()) {
    throw IoError(fmt::format("cannot write '{}': PNG encoding failed for a {}x{} image", path,
                              img.height, img.width));
  }
  core::write_file_atomic(path, png);
}

Image read_png(const std::string& path) {
  const std::string bytes = core::read_file(path);
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    throw DataError(fmt::format("cannot read '{}': file too large ({} bytes vs at most {})", path,
                                bytes.size(), INT_MAX));
  }
  int w = 0, h = 0, comp = 0;
  std::unique_ptr<unsigned char, StbFree> px(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &w, &h, &comp, 0));
  if (!px) {
    const char* reason = stbi_failure_reason();
    throw DataError(
        fmt::format("cannot decode image '{}': {}", path, reason ? reason : "unknown reason"));
  }
  Image img;
  img.height = h;
  img.width = w;
  img.channels = comp;
  const size_t size = static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(comp);
  img.pixels.assign(px.get(), px.get() + size);
  return img;
}

}  // namespace cvae::io
