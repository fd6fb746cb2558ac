// Writing images and image grids as PNG (and reading PNGs back).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cvae::io {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels, interleaved HWC
};

// Lays out n images (each c x h x w planar uint8, one after another in `images`; c = 1 to 4)
// as a rows x cols grid, row by row, with `pad` pixels of `pad_value` between and around the
// tiles: height = rows*h + (rows+1)*pad, width = cols*w + (cols+1)*pad. Tiles past n are left
// as pad_value. Throws ConfigError when rows*cols < n or a size is out of range, and when
// images.size() != n*c*h*w.
Image make_grid(const std::vector<uint8_t>& images, int64_t n, int64_t c, int64_t h, int64_t w,
                int64_t rows, int64_t cols, int64_t pad = 2, uint8_t pad_value = 128);

// The grid of `generate`: one row per label, or a square-ish grid when there is
// one label. -> (rows, cols)
std::pair<int64_t, int64_t> sample_grid_shape(int64_t labels, int64_t per_label);

// make_grid of n images of c x h x w bytes with c = 1 or 3 (else ConfigError),
// written as a PNG with write_png.
void write_image_grid(const std::string& path, const std::vector<uint8_t>& images, int64_t n,
                      int64_t c, int64_t h, int64_t w, int64_t rows, int64_t cols);

// Encodes img as PNG and writes it atomically. Throws IoError when encoding or writing fails
// and ConfigError when img is malformed.
void write_png(const std::string& path, const Image& img);

// Decodes a PNG (or anything else stb_image reads) with its own channel count. Throws
// DataError naming the file and stb's reason when it cannot.
Image read_png(const std::string& path);

}  // namespace cvae::io
