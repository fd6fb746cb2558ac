// Ranking for the items modality (src/modalities/items/lite/ranking.cpp): top-k with ties and
// exclusions, and Recall@k, NDCG@k, precision@k and the popularity counts against values
// worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "modalities/items/lite/ranking.h"

namespace cvae::modalities::items {
namespace {

using Ids = std::vector<int64_t>;

// 1 / log2(3) = 0.63092975..., the discount of the second place.
const double kSecond = 1.0 / std::log2(3.0);

TEST(ItemsTopK, HighestFirstTiesToTheLowerIndex) {
  const std::vector<float> s = {0.5f, 0.9f, 0.9f, 0.1f, 0.7f};
  EXPECT_EQ(top_k(s, 3, {}), (Ids{1, 2, 4}));  // 0.9 (1), 0.9 (2), 0.7 (4)
  EXPECT_EQ(top_k(s, 1, {}), (Ids{1}));
  EXPECT_EQ(top_k(s, 5, {}), (Ids{1, 2, 4, 0, 3}));
  EXPECT_EQ(top_k({2.0f, 2.0f, 2.0f}, 2, {}), (Ids{0, 1}));
  EXPECT_TRUE(top_k(s, 0, {}).empty());
  EXPECT_TRUE(top_k({}, 3, {}).empty());
}

TEST(ItemsTopK, NeverAnExcludedIndex) {
  const std::vector<float> s = {0.5f, 0.9f, 0.9f, 0.1f, 0.7f};
  EXPECT_EQ(top_k(s, 3, {1}), (Ids{2, 4, 0}));
  EXPECT_EQ(top_k(s, 3, {2, 1, 1}), (Ids{4, 0, 3}));  // repeats are fine
  // k beyond what is left: all that is left.
  EXPECT_EQ(top_k(s, 10, {0, 3}), (Ids{1, 2, 4}));
  EXPECT_TRUE(top_k(s, 2, {0, 1, 2, 3, 4}).empty());
}

TEST(ItemsTopK, NanRanksLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(top_k({nan, -1.0f, nan, 3.0f}, 4, {}), (Ids{3, 1, 0, 2}));
  EXPECT_EQ(top_k({nan, -1.0f}, 1, {}), (Ids{1}));
}

TEST(ItemsTopK, BadArguments) {
  EXPECT_THROW(top_k({1.0f}, -1, {}), std::invalid_argument);
  EXPECT_THROW(top_k({1.0f, 2.0f}, 1, {2}), std::invalid_argument);
  EXPECT_THROW(top_k({1.0f, 2.0f}, 1, {-1}), std::invalid_argument);
}

TEST(ItemsRanking, RecallByHand) {
  // ranked [3, 1, 2], relevant {1, 2}:
  EXPECT_DOUBLE_EQ(recall_at_k({3, 1, 2}, {1, 2}, 3), 1.0);  // 2 hits / min(3, 2)
  EXPECT_DOUBLE_EQ(recall_at_k({3, 1, 2}, {2, 1}, 2), 0.5);  // [3, 1]: 1 hit / min(2, 2)
  EXPECT_DOUBLE_EQ(recall_at_k({3, 1, 2}, {1, 2}, 1), 0.0);  // [3]: 0 hits / 1
  // More relevant items than k: divided by k, so a perfect top 2 scores 1.
  EXPECT_DOUBLE_EQ(recall_at_k({1, 2, 9}, {1, 2, 5, 7}, 2), 1.0);           // 2 / min(2, 4)
  EXPECT_DOUBLE_EQ(recall_at_k({0, 1, 2, 3, 4}, {4, 9, 8}, 5), 1.0 / 3.0);  // 1 / min(5, 3)
  // k beyond the ranking: only what is ranked can hit.
  EXPECT_DOUBLE_EQ(recall_at_k({0, 5}, {5, 6, 7, 8}, 20), 0.25);  // 1 / min(20, 4)
}

TEST(ItemsRanking, NdcgByHand) {
  // ranked [3, 1, 2], relevant {1, 2}, k = 3: hits at places 1 and 2 (0-based), so
  // DCG = 1/log2(3) + 1/log2(4); the ideal puts both first: 1/log2(2) + 1/log2(3).
  const double expected = (kSecond + 0.5) / (1.0 + kSecond);  // 0.69342...
  EXPECT_NEAR(ndcg_at_k({3, 1, 2}, {1, 2}, 3), expected, 1e-12);
  EXPECT_NEAR(expected, 0.693426, 1e-6);
  EXPECT_DOUBLE_EQ(ndcg_at_k({1, 2, 3}, {1, 2}, 3), 1.0);  // ideal order
  EXPECT_DOUBLE_EQ(ndcg_at_k({2, 1, 3}, {1, 2}, 3), 1.0);  // either order of the hits
  EXPECT_DOUBLE_EQ(ndcg_at_k({3, 1, 2}, {1, 2}, 1), 0.0);  // [3]: no hit
  // k = 2: [3, 1]: DCG = 1/log2(3); ideal for min(2, 2) = 2 hits: 1 + 1/log2(3).
  EXPECT_NEAR(ndcg_at_k({3, 1, 2}, {1, 2}, 2), kSecond / (1.0 + kSecond), 1e-12);  // 0.38685
  // More relevant than k: the ideal has k hits. [5, 0, 6] vs {0, 1, 2, 3}, k = 2:
  // DCG = 1/log2(3) (0 at place 1); ideal = 1 + 1/log2(3).
  EXPECT_NEAR(ndcg_at_k({5, 0, 6}, {0, 1, 2, 3}, 2), kSecond / (1.0 + kSecond), 1e-12);
  // One relevant item at place 3: 1/log2(5) over an ideal of 1.
  EXPECT_NEAR(ndcg_at_k({7, 8, 9, 4}, {4}, 100), 1.0 / std::log2(5.0), 1e-12);  // 0.43068
}

TEST(ItemsRanking, PrecisionByHand) {
  const std::vector<bool> drama = {true, false, true, false, true};
  EXPECT_DOUBLE_EQ(precision_at_k({0, 1, 2, 3}, drama, 3), 2.0 / 3.0);  // 0, 2 of 0, 1, 2
  EXPECT_DOUBLE_EQ(precision_at_k({0, 1, 2, 3}, drama, 10), 0.5);       // 2 of the 4 ranked
  EXPECT_DOUBLE_EQ(precision_at_k({4}, drama, 1), 1.0);
  EXPECT_DOUBLE_EQ(precision_at_k({3, 1}, drama, 2), 0.0);
}

TEST(ItemsRanking, BadArguments) {
  EXPECT_THROW(recall_at_k({1, 2}, {}, 2), std::invalid_argument);
  EXPECT_THROW(recall_at_k({1, 2}, {1}, 0), std::invalid_argument);
  EXPECT_THROW(ndcg_at_k({1, 2}, {}, 2), std::invalid_argument);
  EXPECT_THROW(ndcg_at_k({1, 2}, {1}, -3), std::invalid_argument);
  EXPECT_THROW(precision_at_k({}, {true}, 1), std::invalid_argument);
  EXPECT_THROW(precision_at_k({1}, {true}, 1), std::invalid_argument);  // 1 is outside the set
  EXPECT_THROW(precision_at_k({0}, {true}, 0), std::invalid_argument);
}

TEST(ItemsRanking, MetricsSumThenMean) {
  RankingMetrics m;
  EXPECT_EQ(m.mean().users, 0);
  EXPECT_EQ(m.mean().recall20, 0.0);
  // User A: relevant {0} ranked first: recall 1, NDCG 1.
  m.add({0, 1, 2}, {0});
  // User B: relevant {2, 7}, 2 at place 2: Recall@20 = Recall@50 = 1 / min(20, 2) = 0.5;
  // NDCG@100 = (1/log2(4)) / (1 + 1/log2(3)) = 0.5 / 1.63093 = 0.30657.
  m.add({0, 1, 2}, {2, 7});
  const double ndcg_b = 0.5 / (1.0 + kSecond);
  EXPECT_EQ(m.users, 2);
  EXPECT_DOUBLE_EQ(m.recall20, 1.5);  // sums
  EXPECT_NEAR(m.ndcg100, 1.0 + ndcg_b, 1e-12);
  const RankingMetrics mean = m.mean();
  EXPECT_EQ(mean.users, 2);
  EXPECT_DOUBLE_EQ(mean.recall20, 0.75);
  EXPECT_DOUBLE_EQ(mean.recall50, 0.75);
  EXPECT_NEAR(mean.ndcg100, (1.0 + ndcg_b) / 2.0, 1e-12);  // 0.65329
  EXPECT_THROW(m.add({0}, {}), std::invalid_argument);
}

TEST(ItemsRanking, PopularityCountsUsersPerColumn) {
  const std::vector<UserItems> train = {{1, {0, 2}, {}}, {2, {2, 3}, {}}, {3, {2}, {0}}};
  EXPECT_EQ(popularity(train, 5), (std::vector<float>{2, 0, 3, 1, 0}));
  EXPECT_EQ(popularity({}, 2), (std::vector<float>{0, 0}));
  EXPECT_THROW(popularity(train, 3), std::invalid_argument);  // column 3 of 3
}

}  // namespace
}  // namespace cvae::modalities::items
