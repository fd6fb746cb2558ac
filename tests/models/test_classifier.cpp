// models/classifier.cpp: the classifier's config checks, its layers and output
// shape for image shapes, and predict (batched, eval mode, the mode restored).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/errors.h"
#include "models/classifier.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

models::ClassifierConfig image_config(std::vector<int64_t> shape, int labels) {
  models::ClassifierConfig cfg;
  cfg.input_shape = std::move(shape);
  for (int i = 0; i < labels; ++i) cfg.condition.labels.push_back(std::to_string(i));
  cfg.channels = {4, 8};
  cfg.hidden = 16;
  return cfg;
}

// n examples of 1x8x8: label k lights the band of rows of toy_pixel_lit.
std::pair<torch::Tensor, torch::Tensor> bands(int64_t n, int classes) {
  auto x = torch::rand({n, 1, 8, 8}) * 0.15;
  auto y = torch::arange(n, torch::kInt64) % classes;
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(y[i].item<int64_t>());
    for (int64_t r = 0; r < 8; ++r) {
      if (testing::toy_pixel_lit(r, 8, classes, k)) x[i][0][r].fill_(0.9);
    }
  }
  return {x, y};
}

TEST(Classifier, ImageShapesGiveOneLogitPerLabelAndTheModalityIsResolved) {
  torch::manual_seed(1);
  models::Classifier net(image_config({1, 8, 8}, 3));
  EXPECT_EQ(net->config().modality, "image");  // "" and no vocabulary: images
  auto out = net->forward(torch::rand({5, 1, 8, 8}));
  EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{5, 3}));
  // The modality's layers are registered first, then the dense head.
  auto names = net->named_parameters().keys();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front().rfind("convs.", 0), 0u) << names.front();
  EXPECT_EQ(names.back(), "out.bias");
  EXPECT_TRUE(net->named_parameters().contains("fc.weight"));
  EXPECT_EQ(net->named_parameters()["out.weight"].sizes().vec(), (std::vector<int64_t>{3, 16}));

  // Colour images and a flat (non-image) shape work too.
  models::Classifier colour(image_config({3, 6, 5}, 2));
  EXPECT_EQ(colour->forward(torch::rand({2, 3, 6, 5})).sizes().vec(), (std::vector<int64_t>{2, 2}));
  auto flat_cfg = image_config({12}, 4);
  flat_cfg.modality = "image";
  models::Classifier flat(flat_cfg);
  EXPECT_EQ(flat->forward(torch::rand({3, 12})).sizes().vec(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(flat->named_parameters()["fc.weight"].sizes().vec(), (std::vector<int64_t>{16, 12}));
}

TEST(Classifier, RejectsBadConfigsNamingTheProblem) {
  auto one_label = image_config({1, 8, 8}, 1);
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(one_label); }),
                  "at least 2 labels");
  auto no_shape = image_config({}, 3);
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(no_shape); }),
                  "input shape is empty");
  auto zero_dim = image_config({1, 0, 8}, 3);
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(zero_dim); }), "got 0");
  auto dropout = image_config({1, 8, 8}, 3);
  dropout.dropout = 1.0;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(dropout); }), "dropout");
  auto hidden = image_config({1, 8, 8}, 3);
  hidden.hidden = 0;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(hidden); }), "hidden");
  auto channels = image_config({1, 8, 8}, 3);
  channels.channels = {4, 0};
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(channels); }), "channels");
  auto deep = image_config({1, 8, 8}, 3);
  deep.channels = std::vector<int64_t>(7, 2);
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::Classifier net(deep); }), "6 conv layers");
}

TEST(Predict, IsTheArgmaxInEvalModeInAnyBatchingAndRestoresTheMode) {
  torch::manual_seed(2);
  auto cfg = image_config({1, 8, 8}, 3);
  cfg.dropout = 0.5;  // training mode would make the logits random
  models::Classifier net(cfg);
  net->train();
  auto x = torch::rand({10, 1, 8, 8});
  auto whole = models::predict(*net, x);
  EXPECT_TRUE(net->is_training()) << "predict must restore training mode";
  ASSERT_EQ(whole.sizes().vec(), (std::vector<int64_t>{10}));
  EXPECT_EQ(whole.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(models::predict(*net, x, 3), whole));  // 3 + 3 + 3 + 1
  EXPECT_TRUE(torch::equal(models::predict(*net, x, 1), whole));
  net->eval();
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(x);
  }
  EXPECT_TRUE(torch::equal(logits.argmax(1), whole));
  EXPECT_FALSE(net->is_training());
  EXPECT_FALSE(models::predict(*net, x).requires_grad());
  EXPECT_FALSE(net->is_training()) << "predict must leave eval mode as it was";
  auto none = models::predict(*net, torch::rand({0, 1, 8, 8}));
  EXPECT_EQ(none.numel(), 0);
  EXPECT_EQ(none.scalar_type(), torch::kInt64);
}

TEST(Classifier, LearnsSeparableBands) {
  torch::manual_seed(3);
  auto [x, y] = bands(60, 3);
  auto cfg = image_config({1, 8, 8}, 3);
  cfg.dropout = 0.0;
  models::Classifier net(cfg);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  auto before = (models::predict(*net, x) == y).to(torch::kFloat64).mean().item<double>();
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
  }
  auto [tx, ty] = bands(30, 3);
  const double acc = (models::predict(*net, tx) == ty).to(torch::kFloat64).mean().item<double>();
  EXPECT_GE(acc, 0.96) << "accuracy before training: " << before;
}

}  // namespace
}  // namespace cvae
