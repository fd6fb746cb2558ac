// Image folders: label order, channel detection, sizes, resizing and bad files.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "io/png.h"
#include "modalities/image/image_folder.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace fs = std::filesystem;
using cvae::io::Image;
using cvae::modalities::image::ImageFolderOptions;

namespace {

// A fresh folder for one test, removed afterwards (tests/support).
struct TempDir : cvae::testing::TempDir {
  TempDir() : cvae::testing::TempDir("cvae-data") {}
  // Path of dir/name, creating the parent folders.
  std::string file(const std::string& name) const {
    const fs::path p = fs::path(path()) / name;
    fs::create_directories(p.parent_path());
    return p.string();
  }
  std::string str() const { return path(); }
};

using cvae::testing::error_of;

// A c-channel h x w PNG whose channel k of every pixel is value + k.
void write_solid_png(const std::string& path, int h, int w, int c, uint8_t value) {
  Image img;
  img.height = h;
  img.width = w;
  img.channels = c;
  for (int i = 0; i < h * w; ++i)
    for (int k = 0; k < c; ++k) img.pixels.push_back(static_cast<uint8_t>(value + k));
  cvae::io::write_png(path, img);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

TEST(ImageFolderTest, LabelsFromSortedFolderNames) {
  TempDir tmp;
  // Created out of order on purpose.
  write_solid_png(tmp.file("zebra/b.png"), 4, 3, 1, 60);
  write_solid_png(tmp.file("zebra/a.png"), 4, 3, 1, 50);
  write_solid_png(tmp.file("apple/only.png"), 4, 3, 1, 10);
  write_solid_png(tmp.file("mango/3.PNG"), 4, 3, 1, 40);
  write_solid_png(tmp.file("mango/1.png"), 4, 3, 1, 20);
  write_solid_png(tmp.file("mango/2.png"), 4, 3, 1, 30);
  // Skipped: hidden files and folders, other extensions, files at the top level.
  write_text(tmp.file("mango/.hidden.png"), "not an image");
  write_text(tmp.file("mango/notes.txt"), "not an image");
  write_text(tmp.file(".git/x.png"), "not an image");
  write_text(tmp.file("README.png"), "not an image");

  const auto f = cvae::modalities::image::read_image_folder(tmp.str(), {});
  EXPECT_EQ(f.label_names, (std::vector<std::string>{"apple", "mango", "zebra"}));
  EXPECT_EQ(f.n, 6);
  EXPECT_EQ(f.channels, 1);
  EXPECT_EQ(f.height, 4);
  EXPECT_EQ(f.width, 3);
  EXPECT_EQ(f.labels, (std::vector<int64_t>{0, 1, 1, 1, 2, 2}));
  ASSERT_EQ(f.paths.size(), 6u);
  EXPECT_EQ(f.paths[0], tmp.file("apple/only.png"));
  EXPECT_EQ(f.paths[1], tmp.file("mango/1.png"));
  EXPECT_EQ(f.paths[3], tmp.file("mango/3.PNG"));
  EXPECT_EQ(f.paths[4], tmp.file("zebra/a.png"));
  ASSERT_EQ(f.pixels.size(), 6u * 12);
  const std::vector<uint8_t> firsts = {10, 20, 30, 40, 50, 60};
  for (size_t i = 0; i < 6; ++i) {
    for (size_t p = 0; p < 12; ++p) ASSERT_EQ(f.pixels[i * 12 + p], firsts[i]) << i << " " << p;
  }
}

TEST(ImageFolderTest, ChannelsAutoDetectAndForced) {
  TempDir tmp;
  write_solid_png(tmp.file("a/gray.png"), 2, 2, 1, 100);
  write_solid_png(tmp.file("b/gray_alpha.png"), 2, 2, 2, 90);
  EXPECT_EQ(cvae::modalities::image::read_image_folder(tmp.str(), {}).channels, 1);

  write_solid_png(tmp.file("b/rgb.png"), 2, 2, 3, 10);  // channels 10, 11, 12
  const auto rgb = cvae::modalities::image::read_image_folder(tmp.str(), {});
  ASSERT_EQ(rgb.channels, 3);
  ASSERT_EQ(rgb.n, 3);
  ASSERT_EQ(rgb.pixels.size(), 3u * 3 * 4);
  // Planar CHW: image 0 (gray 100) is replicated in all planes; image 2 (rgb.png) has one
  // plane per channel. Image 1's alpha is dropped.
  for (size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(rgb.pixels[0 * 4 + p], 100);
    EXPECT_EQ(rgb.pixels[2 * 4 + p], 100);
    EXPECT_EQ(rgb.pixels[12 + 0 * 4 + p], 90);
    EXPECT_EQ(rgb.pixels[24 + 0 * 4 + p], 10);
    EXPECT_EQ(rgb.pixels[24 + 1 * 4 + p], 11);
    EXPECT_EQ(rgb.pixels[24 + 2 * 4 + p], 12);
  }

  ImageFolderOptions gray;
  gray.channels = 1;
  const auto g = cvae::modalities::image::read_image_folder(tmp.str(), gray);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels.size(), 3u * 4);
  EXPECT_NEAR(g.pixels[2 * 4], 11, 1);  // luminance of (10, 11, 12)

  ImageFolderOptions bad;
  bad.channels = 2;
  EXPECT_CONTAINS(error_of<cvae::ConfigError>(
                      [&] { cvae::modalities::image::read_image_folder(tmp.str(), bad); }),
                  "got 2");
}

TEST(ImageFolderTest, ReadsJpeg) {
  TempDir tmp;
  std::vector<uint8_t> px(8 * 6 * 3, 200);
  ASSERT_TRUE(stbi_write_jpg(tmp.file("x/a.jpg").c_str(), 6, 8, 3, px.data(), 95));
  ASSERT_TRUE(stbi_write_jpg(tmp.file("x/b.JPEG").c_str(), 6, 8, 3, px.data(), 95));
  const auto f = cvae::modalities::image::read_image_folder(tmp.str(), {});
  EXPECT_EQ(f.n, 2);
  EXPECT_EQ(f.channels, 3);
  EXPECT_EQ(f.height, 8);
  EXPECT_EQ(f.width, 6);
  for (uint8_t v : f.pixels) EXPECT_NEAR(v, 200, 3);
}

TEST(ImageFolderTest, SizeMismatchRejectedNamingTheFile) {
  TempDir tmp;
  write_solid_png(tmp.file("a/1.png"), 4, 4, 1, 0);
  write_solid_png(tmp.file("b/2.png"), 4, 6, 1, 0);
  const std::string msg =
      error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, tmp.file("b/2.png"));
  EXPECT_CONTAINS(msg, "got 4x6");
  EXPECT_CONTAINS(msg, "expected 4x4");
  EXPECT_CONTAINS(msg, tmp.file("a/1.png"));
  EXPECT_CONTAINS(msg, "--resize");

  ImageFolderOptions sized;
  sized.height = 8;
  sized.width = 8;
  const std::string msg2 =
      error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), sized); });
  EXPECT_CONTAINS(msg2, tmp.file("a/1.png"));
  EXPECT_CONTAINS(msg2, "expected 8x8 (the requested size)");
}

TEST(ImageFolderTest, ResizeGivesRequestedSize) {
  TempDir tmp;
  write_solid_png(tmp.file("a/1.png"), 4, 4, 1, 200);
  write_solid_png(tmp.file("b/2.png"), 10, 6, 1, 200);
  ImageFolderOptions opt;
  opt.resize = true;
  opt.height = 8;
  opt.width = 5;
  const auto f = cvae::modalities::image::read_image_folder(tmp.str(), opt);
  EXPECT_EQ(f.n, 2);
  EXPECT_EQ(f.height, 8);
  EXPECT_EQ(f.width, 5);
  ASSERT_EQ(f.pixels.size(), 2u * 8 * 5);
  for (uint8_t v : f.pixels) EXPECT_NEAR(v, 200, 1);  // a flat image stays flat

  // Without a requested size, everything is resized to the first image's.
  ImageFolderOptions first;
  first.resize = true;
  const auto g = cvae::modalities::image::read_image_folder(tmp.str(), first);
  EXPECT_EQ(g.height, 4);
  EXPECT_EQ(g.width, 4);
  EXPECT_EQ(g.pixels.size(), 2u * 16);
}

TEST(ImageFolderTest, CorruptPngNamesTheFile) {
  TempDir tmp;
  write_solid_png(tmp.file("a/good.png"), 4, 4, 1, 1);
  write_text(tmp.file("a/junk.png"), "this is not a PNG at all");
  std::string msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, tmp.file("a/junk.png"));

  // A PNG cut short: the header reads, the pixel data does not.
  fs::remove(tmp.file("a/junk.png"));
  write_solid_png(tmp.file("full.png"), 32, 32, 3, 7);
  std::string bytes = cvae::core::read_file(tmp.file("full.png"));
  write_text(tmp.file("a/cut.png"), bytes.substr(0, 40));
  msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, tmp.file("a/cut.png"));
}

TEST(ImageFolderTest, EmptyOrMissingFolders) {
  TempDir tmp;
  std::string msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, tmp.str());
  EXPECT_CONTAINS(msg, "no label sub-folders");

  write_solid_png(tmp.file("loose.png"), 2, 2, 1, 0);
  msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, "found 1 images directly in the folder");

  fs::create_directories(tmp.str() + "/empty_label");
  write_text(tmp.file("empty_label/readme.txt"), "x");
  msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.str(), {}); });
  EXPECT_CONTAINS(msg, "empty_label");
  EXPECT_CONTAINS(msg, "holds no images");

  const std::string missing = tmp.str() + "/nope";
  msg = error_of([&] { cvae::modalities::image::read_image_folder(missing, {}); });
  EXPECT_CONTAINS(msg, missing);
  EXPECT_CONTAINS(msg, "no such folder");

  msg = error_of([&] { cvae::modalities::image::read_image_folder(tmp.file("loose.png"), {}); });
  EXPECT_CONTAINS(msg, "not a folder");
}
