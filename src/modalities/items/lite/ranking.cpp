#include "modalities/items/lite/ranking.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cvae::modalities::items {
namespace {

void check_k(int64_t k, const char* what) {
  if (k < 1) throw std::invalid_argument(fmt::format("{}: k is {} (expected >= 1)", what, k));
}

std::vector<int64_t> sorted_relevant(const std::vector<int64_t>& relevant, const char* what) {
  if (relevant.empty()) {
    throw std::invalid_argument(fmt::format("{}: no relevant items (expected at least one)", what));
  }
  std::vector<int64_t> s = relevant;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

// Whether ranked[i] is relevant, for the first min(k, |ranked|).
std::vector<bool> hits(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant,
                       int64_t k) {
  const size_t n = std::min(ranked.size(), static_cast<size_t>(k));
  std::vector<bool> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::binary_search(relevant.begin(), relevant.end(), ranked[i]);
  }
  return out;
}

}  // namespace

std::vector<int64_t> top_k(const std::vector<float>& scores, int64_t k,
                           const std::vector<int64_t>& exclude) {
  if (k < 0) throw std::invalid_argument(fmt::format("top_k: k is {} (expected >= 0)", k));
  const int64_t n = static_cast<int64_t>(scores.size());
  std::vector<bool> excluded(scores.size());
  for (const int64_t e : exclude) {
    if (e < 0 || e >= n) {
      throw std::invalid_argument(
          fmt::format("top_k: excluded index {} (expected 0..{})", e, n - 1));
    }
    excluded[static_cast<size_t>(e)] = true;
  }
  std::vector<int64_t> candidates;
  candidates.reserve(scores.size());
  for (int64_t i = 0; i < n; ++i) {
    if (!excluded[static_cast<size_t>(i)]) candidates.push_back(i);
  }
  const auto before = [&](int64_t a, int64_t b) {
    const float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
    const bool na = std::isnan(sa), nb = std::isnan(sb);
    if (na != nb) return nb;  // numbers before NaN
    if (!na && sa != sb) return sa > sb;
    return a < b;
  };
  const size_t m = std::min(candidates.size(), static_cast<size_t>(k));
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(m),
                    candidates.end(), before);
  candidates.resize(m);
  return candidates;
}

double recall_at_k(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant,
                   int64_t k) {
  check_k(k, "recall_at_k");
  const std::vector<int64_t> rel = sorted_relevant(relevant, "recall_at_k");
  const std::vector<bool> h = hits(ranked, rel, k);
  const auto n_hits = std::count(h.begin(), h.end(), true);
  return static_cast<double>(n_hits) /
         static_cast<double>(std::min<int64_t>(k, static_cast<int64_t>(rel.size())));
}

double ndcg_at_k(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant,
                 int64_t k) {
  check_k(k, "ndcg_at_k");
  const std::vector<int64_t> rel = sorted_relevant(relevant, "ndcg_at_k");
  const std::vector<bool> h = hits(ranked, rel, k);
  double dcg = 0, ideal = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i]) dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  }
  const int64_t n_ideal = std::min<int64_t>(k, static_cast<int64_t>(rel.size()));
  for (int64_t i = 0; i < n_ideal; ++i) ideal += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  return dcg / ideal;
}

double precision_at_k(const std::vector<int64_t>& ranked, const std::vector<bool>& in_set,
                      int64_t k) {
  check_k(k, "precision_at_k");
  if (ranked.empty()) throw std::invalid_argument("precision_at_k: nothing ranked");
  const size_t n = std::min(ranked.size(), static_cast<size_t>(k));
  int64_t in = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t c = ranked[i];
    if (c < 0 || c >= static_cast<int64_t>(in_set.size())) {
      throw std::invalid_argument(fmt::format("precision_at_k: ranked index {} (expected 0..{})", c,
                                              static_cast<int64_t>(in_set.size()) - 1));
    }
    if (in_set[static_cast<size_t>(c)]) ++in;
  }
  return static_cast<double>(in) / static_cast<double>(n);
}

void RankingMetrics::add(const std::vector<int64_t>& ranked, const std::vector<int64_t>& relevant) {
  recall20 += recall_at_k(ranked, relevant, 20);
  recall50 += recall_at_k(ranked, relevant, 50);
  ndcg100 += ndcg_at_k(ranked, relevant, 100);
  ++users;
}

RankingMetrics RankingMetrics::mean() const {
  RankingMetrics m;
  m.users = users;
  if (users == 0) return m;
  const double n = static_cast<double>(users);
  m.recall20 = recall20 / n;
  m.recall50 = recall50 / n;
  m.ndcg100 = ndcg100 / n;
  return m;
}

std::vector<float> popularity(const std::vector<UserItems>& train, int64_t n_items) {
  if (n_items < 0) {
    throw std::invalid_argument(fmt::format("popularity: n_items is {} (expected >= 0)", n_items));
  }
  std::vector<float> counts(static_cast<size_t>(n_items), 0.0f);
  std::vector<int64_t> columns;
  for (const auto& u : train) {
    columns = u.fold_in;
    columns.insert(columns.end(), u.held_out.begin(), u.held_out.end());
    std::sort(columns.begin(), columns.end());
    columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
    for (const int64_t c : columns) {
      if (c < 0 || c >= n_items) {
        throw std::invalid_argument(fmt::format(
            "popularity: user {} has column {} (expected 0..{})", u.user, c, n_items - 1));
      }
      counts[static_cast<size_t>(c)] += 1.0f;
    }
  }
  return counts;
}

}  // namespace cvae::modalities::items
