// models/judging.cpp: what every fidelity measure shares (pairwise distances,
// the judge's label map).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cvae/errors.h"
#include "models/judging.h"
#include "support/expect_error.h"

namespace cvae {
namespace {

using testing::error_of;

TEST(Fidelity, PairwiseDistanceAndLabelMap) {
  auto x = torch::rand({7, 1, 2, 3}, torch::kFloat64);
  double sum = 0;
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      if (i != j) sum += (x[i] - x[j]).pow(2).sum().sqrt().item<double>();
    }
  }
  EXPECT_NEAR(models::mean_pairwise_distance(x), sum / 42, 1e-9);
  EXPECT_TRUE(std::isnan(models::mean_pairwise_distance(x.slice(0, 0, 1))));
  auto map = models::judge_label_map({"b", "a"}, {"a", "b", "c"});
  EXPECT_TRUE(torch::equal(map, torch::tensor({1, 0}, torch::kInt64)));
  EXPECT_CONTAINS(error_of<ConfigError>([] { models::judge_label_map({"z"}, {"a", "b"}); }), "'z'");
}

}  // namespace
}  // namespace cvae
