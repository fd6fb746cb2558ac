// modalities/items/ranking_eval.cpp: EASE against a direct solve, the scorers,
// and the held-out ranking on a hand-made case.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "modalities/items/items_data.h"
#include "modalities/items/ranking_eval.h"

namespace cvae::modalities::items {
namespace {

TEST(ItemsEase, MatchesTheConstrainedRidgeSolvedColumnByColumn) {
  // EASE minimises ||X - XB||^2 + lambda ||B||^2 with diag(B) = 0. Column j on
  // its own: b_j without entry j is the ridge regression of x_j on the other
  // columns, (X_-j^T X_-j + lambda I)^-1 X_-j^T x_j.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto x = (torch::rand({12, 5}, gen, torch::kFloat64) > 0.5).to(torch::kFloat64);
  const double lambda = 0.7;
  auto b = ease_weights(ease_gram(x), lambda).to(torch::kFloat64);
  for (int64_t j = 0; j < 5; ++j) {
    std::vector<int64_t> others;
    for (int64_t k = 0; k < 5; ++k)
      if (k != j) others.push_back(k);
    auto idx = torch::tensor(others, torch::kInt64);
    auto xo = x.index_select(1, idx);
    auto g = xo.t().matmul(xo) + lambda * torch::eye(4, torch::kFloat64);
    auto want = std::get<0>(torch::linalg_lstsq(g, xo.t().matmul(x.select(1, j)).unsqueeze(1),
                                                c10::nullopt, c10::nullopt))
                    .squeeze(1);
    EXPECT_EQ(b[j][j].item<double>(), 0.0);
    // float32 result: a rounding budget of a few float32 ulps of entries below 1.
    EXPECT_TRUE(torch::allclose(b.index_select(0, idx).select(1, j), want, 1e-5, 1e-5))
        << "column " << j << "\n"
        << b.index_select(0, idx).select(1, j) << "\n"
        << want;
  }
}

TEST(ItemsRankHeldOut, HandComputedFiguresForFixedScores) {
  // 4 items, genres: 0 and 1 "A", 2 and 3 "B". Scores 4 > 3 > 2 > 1 by item.
  Catalogue cat;
  cat.ids = {1, 2, 3, 4};
  cat.titles = {"a", "b", "c", "d"};
  cat.genres = {{"A"}, {"A"}, {"B"}, {"B"}};
  const std::vector<std::string> labels = {"any", "A", "B"};
  auto pop = fixed_scorer(torch::tensor({4.0f, 3.0f, 2.0f, 1.0f}));
  auto allowed = allowed_items(cat, labels);
  // User 1 folded in item 0, held out item 2: ranked [1, 2, 3]; the hit at rank 2.
  // User 2 folded in item 3, held out items 0 and 1: ranked [0, 1, 2]; hits at 1, 2.
  std::vector<UserItems> users = {{1, {0}, {2}}, {2, {3}, {0, 1}}};
  const RankingFigures f = rank_held_out(users, cat, labels, pop, Genre::kKeep);
  EXPECT_EQ(f.users, 2);
  EXPECT_DOUBLE_EQ(f.recall20, 1.0);  // every held-out item is in the top 20
  // NDCG: user 1 (1/log2(3)) / 1; user 2 (1 + 1/log2(3)) / (1 + 1/log2(3)) = 1.
  EXPECT_NEAR(f.ndcg100, (1 / std::log2(3.0) + 1) / 2, 1e-12);
  // Pairs: (1, B) relevant {2}; (2, A) relevant {0, 1}. Restricted to B, user 1's
  // ranking is [2, 3] then the ruled-out item 1; to A, user 2's is [0, 1, 2].
  EXPECT_EQ(f.pairs, 2);
  EXPECT_NEAR(f.genre_ndcg100, 1.0, 1e-12);
  // Precision@20 over the min(20, 3) ranked: user 1's [2, 3, 1] holds 2 B items,
  // user 2's [0, 1, 2] 2 A items: 2/3 each.
  EXPECT_NEAR(f.genre_precision20, 2.0 / 3.0, 1e-12);
  // Kept scores are -inf outside the label's items.
  auto s = keep_to_labels(torch::tensor({{4.0f, 3.0f, 2.0f, 1.0f}}), allowed,
                          torch::tensor({2}, torch::kInt64));
  EXPECT_TRUE(std::isinf(s[0][0].item<float>()) && s[0][0].item<float>() < 0);
  EXPECT_EQ(s[0][2].item<float>(), 2.0f);
  // kKeep asks the scorer for "any" (label 0) only; kAsk for each pair's genre;
  // kSkip ranks no pairs.
  int64_t most = -1;
  Scorer echo = [&most](const torch::Tensor& x, const torch::Tensor& asked) {
    most = std::max(most, asked.max().item<int64_t>());
    return asked.to(torch::kFloat32).view({-1, 1}).expand({x.size(0), 4}).contiguous();
  };
  rank_held_out(users, cat, labels, echo, Genre::kKeep);
  EXPECT_EQ(most, 0);
  rank_held_out(users, cat, labels, echo, Genre::kAsk);
  EXPECT_EQ(most, 2);
  EXPECT_EQ(rank_held_out(users, cat, labels, pop, Genre::kSkip).pairs, 0);
}

}  // namespace
}  // namespace cvae::modalities::items
