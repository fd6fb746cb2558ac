// modalities/image/fidelity.cpp: measure_fidelity on toy images with a judge:
// what it reports (counts, per-label figures, the judge on real examples through
// the label map, real spreads by their definition, transfer counts) and its refusals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/image/fidelity.h"
#include "modalities/image/image_data.h"
#include "models/classifier.h"
#include "models/cvae_model.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

namespace image = modalities::image;
using testing::error_of;

// Mean Euclidean distance over the ordered pairs i != j of rows of x, written out.
double pairwise_by_definition(const torch::Tensor& x) {
  auto f = x.flatten(1).to(torch::kFloat64);
  const int64_t n = f.size(0);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      if (i != j) sum += (f[i] - f[j]).norm().item<double>();
    }
  }
  return sum / static_cast<double>(n * (n - 1));
}

class FidelityToy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>("cvae-fidelity");
    testing::write_toy_idx(dir_->path(), 6, 12, 8, 3, 1);
    DataConfig cfg;
    cfg.path = dir_->path();
    real_ = image::load_image_data(cfg, "test");  // 12 examples, labels 0, 1, 2, 0, ...
    torch::manual_seed(19);
    model_ = models::CVAE(testing::toy_model_config({1, 8, 8}, 3, {16}, 2));
    model_->eval();
    models::ClassifierConfig jc;
    jc.input_shape = {1, 8, 8};
    jc.condition.labels = judge_labels_;
    jc.channels = {4};
    jc.hidden = 8;
    judge_ = models::Classifier(jc);
    judge_->eval();
  }
  std::unique_ptr<testing::TempDir> dir_;
  data::Dataset real_;
  models::CVAE model_{nullptr};
  // The judge knows the same labels in another order.
  std::vector<std::string> judge_labels_ = {"2", "0", "1"};
  models::Classifier judge_{nullptr};
};

TEST_F(FidelityToy, ReportsEveryLabelAndTheJudgeOnRealExamplesThroughTheLabelMap) {
  image::FidelityOptions opt;
  opt.samples_per_label = 5;
  opt.temperature = 1.0;
  opt.transfer_examples = 4;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  FidelityResult r = image::measure_fidelity(*model_, *judge_, judge_labels_, real_, {}, opt, gen);
  EXPECT_EQ(r.labels, (std::vector<std::string>{"0", "1", "2"}));  // the model's order
  EXPECT_EQ(r.sampler, "prior");
  EXPECT_EQ(r.samples, 15);
  ASSERT_EQ(r.cond_accuracy_per_label.size(), 3u);
  ASSERT_EQ(r.diversity_ratio_per_label.size(), 3u);
  ASSERT_EQ(r.judge_real_accuracy_per_label.size(), 3u);
  ASSERT_EQ(r.real_distance_per_label.size(), 3u);
  ASSERT_EQ(r.sample_distance_per_label.size(), 3u);

  // Equal counts per label: the overall accuracy is the mean of the labels'.
  double mean_acc = 0, mean_ratio = 0;
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_GE(r.cond_accuracy_per_label[k], 0.0);
    EXPECT_LE(r.cond_accuracy_per_label[k], 1.0);
    mean_acc += r.cond_accuracy_per_label[k] / 3;
    EXPECT_NEAR(r.diversity_ratio_per_label[k],
                r.sample_distance_per_label[k] / r.real_distance_per_label[k], 1e-12);
    mean_ratio += r.diversity_ratio_per_label[k] / 3;
  }
  EXPECT_NEAR(r.cond_accuracy, mean_acc, 1e-12);
  EXPECT_NEAR(r.diversity_ratio, mean_ratio, 1e-12);

  // The judge on the real examples, its indices mapped by label name.
  torch::Tensor pred;
  {
    torch::NoGradGuard no_grad;
    pred = judge_->forward(real_.x).argmax(1);
  }
  auto model_to_judge = torch::tensor({1, 2, 0}, torch::kInt64);  // "0" -> 1, "1" -> 2, "2" -> 0
  auto y = real_.y.select(1, 0);
  auto hit = (pred == model_to_judge.index_select(0, y)).to(torch::kFloat64);
  EXPECT_NEAR(r.judge_real_accuracy, hit.mean().item<double>(), 1e-12);
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(r.judge_real_accuracy_per_label[static_cast<size_t>(k)],
                hit.index({y == k}).mean().item<double>(), 1e-12)
        << "label " << k;
    // The real spread of each label, by the definition.
    EXPECT_NEAR(r.real_distance_per_label[static_cast<size_t>(k)],
                pairwise_by_definition(real_.x.index({y == k})), 1e-4);
  }

  // The first 4 examples, each to the 2 other labels.
  EXPECT_EQ(r.transfer_count, 4 * 2);
  EXPECT_GE(r.transfer_accuracy, 0.0);
  EXPECT_LE(r.transfer_accuracy, 1.0);
}

TEST_F(FidelityToy, SamplesAtTemperatureZeroFromTheStandardPriorDoNotSpread) {
  image::FidelityOptions opt;
  opt.samples_per_label = 4;
  opt.temperature = 0.0;  // every sample of a label is its mean image at z = 0
  opt.transfer_examples = 0;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  FidelityResult r = image::measure_fidelity(*model_, *judge_, judge_labels_, real_, {}, opt, gen);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_LE(r.sample_distance_per_label[k], 1e-5) << "label " << k;
    EXPECT_GT(r.real_distance_per_label[k], 0.1) << "real examples differ";
    // One image judged 4 times: all or none of them hit.
    EXPECT_TRUE(r.cond_accuracy_per_label[k] == 0.0 || r.cond_accuracy_per_label[k] == 1.0);
  }
  EXPECT_EQ(r.transfer_count, 0);
  EXPECT_TRUE(std::isnan(r.transfer_accuracy)) << "nothing was transferred";
}

TEST_F(FidelityToy, RefusesAJudgeWithoutTheModelsLabels) {
  image::FidelityOptions opt;
  opt.samples_per_label = 2;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const std::vector<std::string> other = {"0", "1", "9"};
  EXPECT_CONTAINS(error_of<ConfigError>([&] {
                    image::measure_fidelity(*model_, *judge_, other, real_, {}, opt, gen);
                  }),
                  "does not know the model's label '2'");
}

}  // namespace
}  // namespace cvae
