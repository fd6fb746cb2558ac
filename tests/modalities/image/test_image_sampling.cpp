// modalities/image/image_sampling.cpp: to_bytes (rounding, clamping, dtype and
// layout), the PNG grid and IDX pair writers read back through io::read_png and
// io::read_idx, and the shapes and ranges of sample and transfer.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "io/idx.h"
#include "io/png.h"
#include "modalities/image/image_sampling.h"
#include "models/cvae_model.h"
#include "models/sampling.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

namespace image = modalities::image;

models::CVAE untrained_model() {
  torch::manual_seed(13);
  models::CVAE model(testing::toy_model_config({1, 8, 8}, 3, {16}, 2));
  model->eval();
  return model;
}

TEST(ToBytes, RoundsToTheNearestLevelAndClamps) {
  // Values v / 255 with v well away from a half, so float rounding cannot tip them.
  auto x = torch::tensor(
      {0.0, 1.0, -0.3, 1.7, 100.0 / 255, 100.4 / 255, 100.6 / 255, 0.2, 254.8 / 255, 0.3 / 255},
      torch::kFloat64);
  EXPECT_EQ(image::to_bytes(x), (std::vector<uint8_t>{0, 255, 0, 255, 100, 100, 101, 51, 255, 0}));
  EXPECT_EQ(image::to_bytes(x.to(torch::kFloat32)), image::to_bytes(x));
}

TEST(ToBytes, ReadsTheTensorInItsLogicalOrder) {
  auto levels = torch::arange(6, torch::kFloat32).view({2, 3}) * (10.0f / 255.0f);
  auto t = levels.t();  // (3, 2), not contiguous
  ASSERT_FALSE(t.is_contiguous());
  EXPECT_EQ(image::to_bytes(t), (std::vector<uint8_t>{0, 30, 10, 40, 20, 50}));
  EXPECT_TRUE(image::to_bytes(torch::empty({0, 1, 2, 2})).empty());
}

TEST(WritePngGrid, TilesReadBackAtTheirPlacesWithPaddingAround) {
  testing::TempDir dir("cvae-png-grid");
  // Three 1x2x2 tiles; tile j pixel (r, c) = 10 * (4 j + 2 r + c + 1) / 255.
  auto images = (torch::arange(12, torch::kFloat32) + 1).view({3, 1, 2, 2}) * (10.0f / 255.0f);
  const std::string path = dir.file("grid.png");
  image::write_png_grid(path, images, 1, 3);
  io::Image img = io::read_png(path);
  ASSERT_EQ(img.channels, 1);
  ASSERT_EQ(img.height, 1 * 2 + 2 * 2);  // one row of 2-pixel tiles, 2 pixels of padding around
  ASSERT_EQ(img.width, 3 * 2 + 4 * 2);
  auto at = [&](int64_t r, int64_t c) {
    return static_cast<int>(img.pixels[static_cast<size_t>(r * img.width + c)]);
  };
  for (int64_t j = 0; j < 3; ++j) {
    for (int64_t r = 0; r < 2; ++r) {
      for (int64_t c = 0; c < 2; ++c)
        EXPECT_EQ(at(2 + r, 2 + j * 4 + c), 10 * (4 * j + 2 * r + c + 1)) << j << r << c;
    }
  }
  EXPECT_EQ(at(0, 0), 128);  // padding
  EXPECT_EQ(at(3, 4), 128);  // between tiles 0 and 1
  EXPECT_EQ(at(5, 13), 128);

  // Colour tiles come back interleaved (HWC) from the planar CHW tensor.
  auto colour = torch::zeros({1, 3, 1, 1});
  colour[0][0][0][0] = 1.0;
  colour[0][2][0][0] = 0.2;
  image::write_png_grid(dir.file("colour.png"), colour, 1, 1);
  io::Image rgb = io::read_png(dir.file("colour.png"));
  ASSERT_EQ(rgb.channels, 3);
  const size_t centre = static_cast<size_t>((2 * rgb.width + 2) * 3);
  EXPECT_EQ(rgb.pixels[centre], 255);
  EXPECT_EQ(rgb.pixels[centre + 1], 0);
  EXPECT_EQ(rgb.pixels[centre + 2], 51);

  EXPECT_THROW(image::write_png_grid(dir.file("flat.png"), torch::rand({3, 64}), 1, 3),
               ConfigError);
  EXPECT_THROW(image::write_png_grid(dir.file("small.png"), images, 1, 2), ConfigError);
}

TEST(WriteIdxPair, ImagesAndLabelsReadBack) {
  testing::TempDir dir("cvae-idx-pair");
  auto images = torch::rand({4, 1, 3, 3});
  auto labels = torch::tensor({2, 0, 1, 2}, torch::kInt64);
  auto files = image::write_idx_pair(dir.file("s"), images, labels);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], dir.file("s-images-idx3-ubyte"));
  EXPECT_EQ(files[1], dir.file("s-labels-idx1-ubyte"));
  io::IdxArray x = io::read_idx(files[0]);
  io::IdxArray y = io::read_idx(files[1]);
  EXPECT_EQ(x.dims, (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(x.data, image::to_bytes(images));
  EXPECT_EQ(y.dims, (std::vector<int64_t>{4}));
  EXPECT_EQ(y.data, (std::vector<uint8_t>{2, 0, 1, 2}));
  // Label rows (N, 1) are the same as a vector of labels.
  image::write_idx_pair(dir.file("t"), images, labels.view({4, 1}));
  EXPECT_EQ(io::read_idx(dir.file("t-labels-idx1-ubyte")).data, y.data);
  // Colour images keep their channel axis.
  image::write_idx_pair(dir.file("c"), torch::rand({2, 3, 2, 2}), torch::zeros({2}));
  EXPECT_EQ(io::read_idx(dir.file("c-images-idx3-ubyte")).dims, (std::vector<int64_t>{2, 3, 2, 2}));
}

TEST(Sample, ShapesRangesAndTheSeed) {
  auto model = untrained_model();
  auto rows = data::parse_labels(model->config().conditions, {"all"});  // (3, 1)
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(5);
  auto means = image::sample(*model, rows, 4, 1.0, g1, false);
  ASSERT_EQ(means.sizes().vec(), (std::vector<int64_t>{12, 1, 8, 8}));
  EXPECT_GT(means.min().item<double>(), 0.0);  // sigmoid means lie strictly inside (0, 1)
  EXPECT_LT(means.max().item<double>(), 1.0);
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_TRUE(torch::equal(image::sample(*model, rows, 4, 1.0, g2, false), means));

  // Drawn pixels of a Bernoulli likelihood are 0 or 1.
  auto g3 = at::make_generator<at::CPUGeneratorImpl>(5);
  auto pixels = image::sample(*model, rows, 4, 1.0, g3, true);
  ASSERT_EQ(pixels.sizes().vec(), (std::vector<int64_t>{12, 1, 8, 8}));
  EXPECT_TRUE(((pixels == 0) | (pixels == 1)).all().item<bool>());

  // At temperature 0 from the standard prior every draw is the mean at z = 0 of its label.
  auto g4 = at::make_generator<at::CPUGeneratorImpl>(5);
  auto cold = image::sample(*model, rows.slice(0, 1, 2), 3, 0.0, g4, false);  // label 1
  auto c1 = data::encode_conditions(model->config().conditions, rows.slice(0, 1, 2));
  auto at_zero = models::decode_mean(*model, torch::zeros({1, 2}), c1);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_LE((cold[i] - at_zero[0]).abs().max().item<double>(), 1e-6);

  // Reranked samples have the same shape.
  auto g5 = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_EQ(image::sample(*model, rows, 2, 1.0, g5, false, {}, 3).sizes().vec(),
            (std::vector<int64_t>{6, 1, 8, 8}));
}

TEST(Transfer, DecodesTheSourceCodeWithEachTarget) {
  auto model = untrained_model();
  const auto& conds = model->config().conditions;
  torch::manual_seed(14);
  auto x = torch::rand({2, 1, 8, 8});
  auto y = torch::tensor({0, 2}, torch::kInt64).view({2, 1});
  auto targets = torch::tensor({1, 2}, torch::kInt64).view({2, 1});
  auto out = image::transfer(*model, x, y, targets);
  ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{2, 2, 1, 8, 8}));
  torch::NoGradGuard no_grad;
  auto mu = model->encode(x, data::encode_conditions(conds, y)).first;  // standard prior: z' = mu
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t t = 0; t < 2; ++t) {
      auto c = data::encode_conditions(conds, targets.slice(0, t, t + 1));
      auto expected = models::decode_mean(*model, mu.slice(0, i, i + 1), c)[0];
      EXPECT_LE((out[i][t] - expected).abs().max().item<double>(), 1e-6) << i << " to " << t;
    }
  }
}

}  // namespace
}  // namespace cvae
