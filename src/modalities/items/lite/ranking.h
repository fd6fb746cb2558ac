// Ranking for the items modality: the top-k of a user's scores and the metrics of Liang et
// al. 2018 (Recall@k, normalised DCG@k), a precision for genre sets, and the popularity
// baseline. Indices are item columns. Wrong arguments (a bug in the caller, not in the data)
// throw std::invalid_argument.
#pragma once

#include <cstdint>
#include <vector>

#include "modalities/items/lite/protocol.h"

namespace cvae::modalities::items {

// The indices of the k highest scores, highest first, ties to the lower index, never an
// index in exclude (NaN ranks below every number). Fewer than k when fewer are left. Throws
// when k < 0 or an excluded index is not an index of scores.
std::vector<int64_t> top_k(const std::vector<float>& scores, int64_t k,
                           const std::vector<int64_t>& exclude);

// Recall@k as Liang et al. define it: the relevant items among the first k ranked, divided by
// min(k, |relevant|), so that a perfect ranking scores 1. ranked holds distinct indices;
// relevant must not be empty, k >= 1 (else throws).
double recall_at_k(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant,
                   int64_t k);

// NDCG@k: the sum over the first k ranked of rel / log2(position + 2) (position 0-based, rel
// 1 for a relevant item, else 0), divided by the same sum for min(k, |relevant|) relevant
// items in front. ranked holds distinct indices; relevant must not be empty, k >= 1.
double ndcg_at_k(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant,
                 int64_t k);

// The share of the first min(k, |ranked|) ranked indices i with in_set[i] (e.g. the items of
// one genre). Throws when k < 1, ranked is empty or an index is outside in_set.
double precision_at_k(const std::vector<int64_t>& ranked, const std::vector<bool>& in_set,
                      int64_t k);

// The protocol's three metrics, summed over users by add() and averaged by mean().
struct RankingMetrics {
  double recall20 = 0, recall50 = 0, ndcg100 = 0;
  int64_t users = 0;

  // Adds one user: ranked (at least 100 long for NDCG@100 to see 100 items) against the
  // user's held-out items (not empty).
  void add(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant);
  // The sums divided by users (users unchanged); all 0 when there are none.
  RankingMetrics mean() const;
};

// How many of the users have each column (fold_in or held_out): the popularity baseline's
// scores. Throws when a column is outside 0..n_items-1.
std::vector<float> popularity(const std::vector<UserItems>& train, int64_t n_items);

}  // namespace cvae::modalities::items
