// PNG grids: geometry, tile placement (checked by reading the written file back), errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "io/png.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace fs = std::filesystem;
using cvae::io::Image;

namespace {

// A fresh folder for one test, removed afterwards (tests/support).
struct TempDir : cvae::testing::TempDir {
  TempDir() : cvae::testing::TempDir("cvae-data") {}
  std::string str() const { return path(); }
};

using cvae::testing::error_of;

// Value of pixel (y, x), channel ch of image i; distinct for every image, channel and pixel
// of the small test sizes, and never 128 (the pad value used below).
uint8_t tile_value(int64_t i, int64_t ch, int64_t y, int64_t x) {
  const int v = static_cast<int>(1 + i * 40 + ch * 13 + y * 7 + x) % 256;
  return static_cast<uint8_t>(v == 128 ? 129 : v);
}

std::vector<uint8_t> make_images(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<uint8_t> v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) v.push_back(tile_value(i, ch, y, x));
  return v;
}

uint8_t pixel_at(const Image& img, int64_t y, int64_t x, int64_t ch) {
  return img.pixels[static_cast<size_t>((y * img.width + x) * img.channels + ch)];
}

// Checks every pixel of grid g against the expected layout.
void check_layout(const Image& g, int64_t n, int64_t c, int64_t h, int64_t w, int64_t rows,
                  int64_t cols, int64_t pad, uint8_t pad_value) {
  ASSERT_EQ(g.channels, c);
  ASSERT_EQ(g.height, rows * h + (rows + 1) * pad);
  ASSERT_EQ(g.width, cols * w + (cols + 1) * pad);
  ASSERT_EQ(g.pixels.size(), static_cast<size_t>(g.height * g.width * c));
  int64_t mismatches = 0;
  for (int64_t y = 0; y < g.height; ++y) {
    for (int64_t x = 0; x < g.width; ++x) {
      // Which tile (if any) covers (y, x)?
      const int64_t ty = y - pad, tx = x - pad;
      const int64_t r = ty >= 0 ? ty / (h + pad) : -1, col = tx >= 0 ? tx / (w + pad) : -1;
      const int64_t iy = ty - r * (h + pad), ix = tx - col * (w + pad);
      const bool in_tile = r >= 0 && col >= 0 && r < rows && col < cols && iy < h && ix < w;
      const int64_t i = r * cols + col;
      for (int64_t ch = 0; ch < c; ++ch) {
        const uint8_t want = (in_tile && i < n) ? tile_value(i, ch, iy, ix) : pad_value;
        if (pixel_at(g, y, x, ch) != want && ++mismatches <= 5) {
          ADD_FAILURE() << "pixel (" << y << ", " << x << ") channel " << ch << ": got "
                        << int(pixel_at(g, y, x, ch)) << " vs expected " << int(want);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace

TEST(PngTest, GridGeometryAndTilePlacementGray) {
  const int64_t n = 5, c = 1, h = 3, w = 4, rows = 2, cols = 3, pad = 2;
  const Image g = cvae::io::make_grid(make_images(n, c, h, w), n, c, h, w, rows, cols, pad, 128);
  EXPECT_EQ(g.height, 12);  // 2*3 + 3*2
  EXPECT_EQ(g.width, 20);   // 3*4 + 4*2
  check_layout(g, n, c, h, w, rows, cols, pad, 128);
  // Spot check by hand: image 4 (row 1, col 1), pixel (2, 3) lands at y = 2+5+2, x = 2+6+3.
  EXPECT_EQ(pixel_at(g, 9, 11, 0), tile_value(4, 0, 2, 3));
  // The sixth tile is empty.
  EXPECT_EQ(pixel_at(g, 2 + 5, 2 + 12, 0), 128);
}

TEST(PngTest, WrittenGridReadsBackIdentically) {
  const int64_t n = 7, c = 1, h = 5, w = 6, rows = 3, cols = 3, pad = 1;
  const Image g = cvae::io::make_grid(make_images(n, c, h, w), n, c, h, w, rows, cols, pad, 0);
  TempDir tmp;
  const std::string path = tmp.file("grid.png");
  cvae::io::write_png(path, g);
  const Image back = cvae::io::read_png(path);
  EXPECT_EQ(back.height, g.height);
  EXPECT_EQ(back.width, g.width);
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.pixels, g.pixels);
  check_layout(back, n, c, h, w, rows, cols, pad, 0);
}

TEST(PngTest, RgbGridIsInterleavedAndReadsBack) {
  const int64_t n = 4, c = 3, h = 2, w = 3, rows = 2, cols = 2, pad = 3;
  const Image g = cvae::io::make_grid(make_images(n, c, h, w), n, c, h, w, rows, cols, pad, 255);
  check_layout(g, n, c, h, w, rows, cols, pad, 255);
  // Image 0's first pixel: planar channels become the interleaved triple at (pad, pad).
  EXPECT_EQ(pixel_at(g, 3, 3, 0), tile_value(0, 0, 0, 0));
  EXPECT_EQ(pixel_at(g, 3, 3, 1), tile_value(0, 1, 0, 0));
  EXPECT_EQ(pixel_at(g, 3, 3, 2), tile_value(0, 2, 0, 0));

  TempDir tmp;
  cvae::io::write_png(tmp.file("rgb.png"), g);
  const Image back = cvae::io::read_png(tmp.file("rgb.png"));
  EXPECT_EQ(back.channels, 3);
  check_layout(back, n, c, h, w, rows, cols, pad, 255);
}

TEST(PngTest, NoPadding) {
  const Image g = cvae::io::make_grid(make_images(4, 1, 2, 2), 4, 1, 2, 2, 1, 4, 0);
  EXPECT_EQ(g.height, 2);
  EXPECT_EQ(g.width, 8);
  check_layout(g, 4, 1, 2, 2, 1, 4, 0, 128);
}

TEST(PngTest, TooFewTilesIsAnError) {
  const std::string msg = error_of<cvae::ConfigError>(
      [] { cvae::io::make_grid(make_images(5, 1, 2, 2), 5, 1, 2, 2, 2, 2); });
  EXPECT_CONTAINS(msg, "2 rows x 2 cols = 4 tiles vs 5 images");
}

TEST(PngTest, BadGridArguments) {
  std::string msg = error_of<cvae::ConfigError>(
      [] { cvae::io::make_grid(make_images(2, 1, 2, 2), 3, 1, 2, 2, 2, 2); });
  EXPECT_CONTAINS(msg, "got 8 bytes vs expected 12");
  EXPECT_THROW(cvae::io::make_grid({}, 0, 1, 0, 2, 1, 1), cvae::ConfigError);
  EXPECT_THROW(cvae::io::make_grid({}, 0, 5, 2, 2, 1, 1), cvae::ConfigError);
  EXPECT_THROW(cvae::io::make_grid({}, 0, 1, 2, 2, 1, 1, -1), cvae::ConfigError);
  // Zero images is allowed: an all-pad grid.
  const Image empty = cvae::io::make_grid({}, 0, 1, 2, 2, 1, 1, 1, 7);
  EXPECT_EQ(empty.pixels, std::vector<uint8_t>(16, 7));
}

TEST(PngTest, WriteErrors) {
  TempDir tmp;
  Image img;
  img.height = 2;
  img.width = 2;
  img.channels = 1;
  img.pixels = {1, 2, 3};
  EXPECT_CONTAINS(error_of<cvae::ConfigError>([&] { cvae::io::write_png(tmp.file("a.png"), img); }),
                  "got 3 pixel bytes vs expected 4");
  img.pixels.push_back(4);
  const std::string nowhere = tmp.file("missing/dir/a.png");
  EXPECT_CONTAINS(error_of<cvae::IoError>([&] { cvae::io::write_png(nowhere, img); }), nowhere);
}

TEST(PngTest, ReadErrorsNameTheFile) {
  TempDir tmp;
  const std::string path = tmp.file("bad.png");
  {
    std::ofstream out(path, std::ios::binary);
    out << "definitely not a png";
  }
  const std::string msg = error_of<cvae::DataError>([&] { cvae::io::read_png(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(error_of<cvae::DataError>([&] { cvae::io::read_png(tmp.file("none.png")); }),
                  tmp.file("none.png"));
}
