// The image modality's torch-free part (src/modalities/image/lite/image_output.cpp):
// which configs are images, the "auto" sampling for images, and the writer of
// generated images (PNG grid or IDX pair), read back here.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "cvae/api.h"
#include "cvae/config.h"
#include "cvae/errors.h"
#include "io/idx.h"
#include "io/png.h"
#include "modalities/image/lite/image_output.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace cvae::modalities::image {
namespace {

namespace fs = std::filesystem;

// n images of c x h x w, image i's bytes all 10 * (i + 1) + channel.
std::vector<uint8_t> images(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<uint8_t> out;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < h * w; ++p) out.push_back(static_cast<uint8_t>(10 * (i + 1) + ch));
  return out;
}

TEST(IsImageModel, NamedImageOrOlderWithoutVocabulary) {
  ModelConfig m;
  m.modality = "image";
  EXPECT_TRUE(is_image_model(m));
  m.vocabulary = {"x"};
  EXPECT_TRUE(is_image_model(m));  // the name decides
  m.modality = "text";
  EXPECT_FALSE(is_image_model(m));
  m.modality = "";
  EXPECT_FALSE(is_image_model(m));  // older text models always have a vocabulary
  m.vocabulary = {};
  EXPECT_TRUE(is_image_model(m));
  m.modality = "toy";
  EXPECT_FALSE(is_image_model(m));
}

TEST(ImageSamplingDefaults, TemperatureIsTheLatentOne) {
  EXPECT_TRUE(kSamplingDefaults.temperature_is_latent);
  EXPECT_EQ(kSamplingDefaults.latent_temperature, kImageLatentTemperature);
  EXPECT_EQ(kSamplingDefaults.candidates, kImageCandidates);
  EXPECT_STREQ(kName, "image");
}

TEST(WriteImageSamples, PngIsAGridWithOneRowPerLabel) {
  testing::TempDir dir("cvae-image-output");
  const std::string out = dir.file("deep/er/s.png");  // folders are created
  const auto files = write_image_samples(out, "png", images(6, 1, 2, 3), {1, 2, 3}, {{0}, {2}}, 3);
  EXPECT_EQ(files, std::vector<std::string>{out});
  const io::Image g = io::read_png(out);
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.height, 2 * 2 + 3 * 2);  // 2 rows of 2 pixels, 2 pixels of pad
  EXPECT_EQ(g.width, 3 * 3 + 4 * 2);   // 3 columns of 3
  // Row r, column c holds image r * 3 + c.
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t c = 0; c < 3; ++c)
      EXPECT_EQ(g.pixels[static_cast<size_t>((2 + r * 4) * g.width + 2 + c * 5)],
                10 * (r * 3 + c + 1))
          << r << "," << c;
}

TEST(WriteImageSamples, OneLabelIsASquareishGridOfColour) {
  testing::TempDir dir("cvae-image-output");
  const std::string out = dir.file("s.png");
  write_image_samples(out, "png", images(5, 3, 1, 1), {3, 1, 1}, {{1}}, 5);
  const io::Image g = io::read_png(out);
  EXPECT_EQ(g.channels, 3);
  EXPECT_EQ(g.height, 2 * 1 + 3 * 2);  // 5 samples: 2 rows of 3
  EXPECT_EQ(g.width, 3 * 1 + 4 * 2);
  const size_t last = static_cast<size_t>(((2 + 3) * g.width + 2 + 1 * 3) * 3);  // image 4
  EXPECT_EQ(g.pixels[last], 50);
  EXPECT_EQ(g.pixels[last + 2], 52);  // interleaved channels
}

TEST(WriteImageSamples, IdxPairWithLabelsRepeatedPerSample) {
  testing::TempDir dir("cvae-image-output");
  const auto files =
      write_image_samples(dir.file("x.png"), "idx", images(4, 1, 2, 2), {1, 2, 2}, {{2}, {0}}, 2);
  ASSERT_EQ(files, (std::vector<std::string>{dir.file("x-images-idx3-ubyte"),
                                             dir.file("x-labels-idx1-ubyte")}));
  const io::IdxArray img = io::read_idx(files[0]);
  EXPECT_EQ(img.dims, (std::vector<int64_t>{4, 2, 2}));  // one channel: N x H x W
  EXPECT_EQ(img.data, images(4, 1, 2, 2));
  const io::IdxArray lab = io::read_idx(files[1]);
  EXPECT_EQ(lab.dims, (std::vector<int64_t>{4}));
  EXPECT_EQ(lab.data, (std::vector<uint8_t>{2, 2, 0, 0}));  // label-major
}

TEST(WriteImageSamples, IdxOfSeveralConditionsAndChannels) {
  testing::TempDir dir("cvae-image-output");
  const auto files =
      write_image_samples(dir.file("y"), "idx", images(2, 3, 1, 2), {3, 1, 2}, {{1, 4}}, 2);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], dir.file("y-images-idx3-ubyte"));  // no .png: the prefix as given
  EXPECT_EQ(io::read_idx(files[0]).dims, (std::vector<int64_t>{2, 3, 1, 2}));
  const io::IdxArray lab = io::read_idx(files[1]);
  EXPECT_EQ(lab.dims, (std::vector<int64_t>{2, 2}));  // N x K label indices
  EXPECT_EQ(lab.data, (std::vector<uint8_t>{1, 4, 1, 4}));
}

TEST(WriteImageSamples, NoOutIsSamplesPngInTheWorkingDirectory) {
  testing::TempDir dir("cvae-image-output");
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  std::vector<std::string> files;
  EXPECT_NO_THROW(files = write_image_samples("", "png", images(1, 1, 2, 2), {1, 2, 2}, {{0}}, 1));
  fs::current_path(old);
  EXPECT_EQ(files, std::vector<std::string>{"samples.png"});
  EXPECT_TRUE(core::path_exists(dir.file("samples.png")));
}

TEST(WriteImageSamples, PngNeedsAnImageShapeOfOneOrThreeChannels) {
  testing::TempDir dir("cvae-image-output");
  const std::string out = dir.file("s.png");
  EXPECT_CONTAINS(testing::error_of<ConfigError>(
                      [&] { write_image_samples(out, "png", images(2, 1, 1, 5), {5}, {{0}}, 2); }),
                  "PNG output needs an image model (input shape C x H x W; got 5)");
  EXPECT_CONTAINS(testing::error_of<ConfigError>([&] {
                    write_image_samples(out, "png", images(1, 2, 2, 2), {2, 2, 2}, {{0}}, 1);
                  }),
                  "C = 1 or 3 (got C = 2)");
  EXPECT_FALSE(core::path_exists(out));
  // IDX takes any shape the model has.
  EXPECT_NO_THROW(write_image_samples(out, "idx", images(1, 2, 2, 2), {2, 2, 2}, {{0}}, 1));
}

TEST(WriteImageSamples, LabelsAbove255DoNotFitIdx) {
  testing::TempDir dir("cvae-image-output");
  EXPECT_CONTAINS(
      testing::error_of<ConfigError>([&] {
        write_image_samples(dir.file("z"), "idx", images(1, 1, 1, 1), {1, 1, 1}, {{256}}, 1);
      }),
      "IDX labels hold at most 256 label values");
}

}  // namespace
}  // namespace cvae::modalities::image
