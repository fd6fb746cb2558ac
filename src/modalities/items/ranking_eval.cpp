#include "modalities/items/ranking_eval.h"

#include <algorithm>
#include <limits>

#include "modalities/items/lite/ranking.h"

namespace cvae::modalities::items {
std::vector<float> row_scores(const torch::Tensor& scores, int64_t r) {
  auto row = scores[r].contiguous();
  const float* p = row.data_ptr<float>();
  return {p, p + row.numel()};
}

Scorer model_scorer(models::CVAEImpl& model, int64_t batch) {
  return [&model, batch](const torch::Tensor& x, const torch::Tensor& labels) {
    torch::NoGradGuard no_grad;
    model.eval();
    const auto& conds = model.config().conditions;
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < x.size(0); i += batch) {
      const int64_t j = std::min(x.size(0), i + batch);
      auto c = data::encode_conditions(conds, labels.slice(0, i, j).view({-1, 1}));
      auto mu = model.encode(x.slice(0, i, j), c).first;
      out.push_back(model.decode(mu, c, x.slice(0, i, j)));
    }
    return torch::cat(out, 0);
  };
}

torch::Tensor ease_gram(const torch::Tensor& x) {
  auto xd = x.to(torch::kFloat64);
  return xd.t().matmul(xd);
}

torch::Tensor ease_weights(const torch::Tensor& gram, double lambda) {
  auto g = gram.clone();
  g.diagonal().add_(lambda);
  auto p = torch::inverse(g);
  auto b = -p / p.diagonal().unsqueeze(0);  // B_ij = -P_ij / P_jj
  b.diagonal().zero_();
  return b.to(torch::kFloat32);
}

Scorer matrix_scorer(torch::Tensor w) {
  return [w](const torch::Tensor& x, const torch::Tensor&) { return x.matmul(w); };
}

Scorer fixed_scorer(torch::Tensor item_scores) {
  return [item_scores](const torch::Tensor& x, const torch::Tensor&) {
    return item_scores.view({1, -1}).expand({x.size(0), -1}).contiguous();
  };
}

torch::Tensor keep_to_labels(const torch::Tensor& scores, const torch::Tensor& allowed,
                             const torch::Tensor& labels) {
  auto keep = allowed.index_select(0, labels) > 0;
  return scores.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
}

RankingFigures rank_held_out(const std::vector<UserItems>& users, const Catalogue& cat,
                             const std::vector<std::string>& labels, const Scorer& scorer,
                             Genre genre) {
  RankingFigures f;
  std::vector<const UserItems*> kept;
  for (const auto& u : users)
    if (!u.held_out.empty()) kept.push_back(&u);
  if (kept.empty()) return f;
  const int64_t items = cat.size();
  std::vector<std::vector<int64_t>> fold_in;
  for (const auto* u : kept) fold_in.push_back(u->fold_in);
  auto x = multi_hot(fold_in, items);
  auto scores = scorer(x, torch::zeros({x.size(0)}, torch::kInt64));
  RankingMetrics sums;
  for (size_t i = 0; i < kept.size(); ++i)
    sums.add(top_k(row_scores(scores, static_cast<int64_t>(i)), 100, kept[i]->fold_in),
             kept[i]->held_out);
  const RankingMetrics m = sums.mean();
  f.users = m.users;
  f.recall20 = m.recall20, f.recall50 = m.recall50, f.ndcg100 = m.ndcg100;
  if (genre == Genre::kSkip) return f;

  // (user, genre) pairs with held-out items of the genre.
  auto allowed = allowed_items(cat, labels);
  auto allowed_a = allowed.accessor<float, 2>();
  std::vector<std::vector<bool>> in_label(labels.size(), std::vector<bool>(items));
  for (size_t g = 0; g < labels.size(); ++g)
    for (int64_t col = 0; col < items; ++col)
      in_label[g][static_cast<size_t>(col)] = allowed_a[static_cast<int64_t>(g)][col] > 0;
  std::vector<int64_t> pair_user, pair_label;
  std::vector<std::vector<int64_t>> pair_relevant;
  for (size_t i = 0; i < kept.size(); ++i) {
    for (size_t g = 1; g < labels.size(); ++g) {
      std::vector<int64_t> rel;
      for (auto col : kept[i]->held_out)
        if (in_label[g][static_cast<size_t>(col)]) rel.push_back(col);
      if (rel.empty()) continue;
      pair_user.push_back(static_cast<int64_t>(i));
      pair_label.push_back(static_cast<int64_t>(g));
      pair_relevant.push_back(std::move(rel));
    }
  }
  if (pair_user.empty()) return f;
  auto pu = torch::tensor(pair_user, torch::kInt64);
  auto pl = torch::tensor(pair_label, torch::kInt64);
  auto pair_scores = genre == Genre::kAsk ? scorer(x.index_select(0, pu), pl)
                                          : keep_to_labels(scores.index_select(0, pu), allowed, pl);
  for (size_t p = 0; p < pair_user.size(); ++p) {
    const auto& fold = kept[static_cast<size_t>(pair_user[p])]->fold_in;
    const auto ranked = top_k(row_scores(pair_scores, static_cast<int64_t>(p)), 100, fold);
    f.genre_ndcg100 += ndcg_at_k(ranked, pair_relevant[p], 100);
    f.genre_precision20 += precision_at_k(ranked, in_label[static_cast<size_t>(pair_label[p])], 20);
  }
  f.pairs = static_cast<int64_t>(pair_user.size());
  f.genre_ndcg100 /= static_cast<double>(f.pairs);
  f.genre_precision20 /= static_cast<double>(f.pairs);
  return f;
}

std::vector<std::pair<std::string, double>> figures(const RankingFigures& f,
                                                    const std::string& prefix, Figures which) {
  std::vector<std::pair<std::string, double>> out;
  if (which != Figures::kGenre) {
    out.insert(out.end(), {{prefix + "recall_20", f.recall20},
                           {prefix + "recall_50", f.recall50},
                           {prefix + "ndcg_100", f.ndcg100}});
  }
  out.insert(out.end(), {{prefix + "genre_ndcg_100", f.genre_ndcg100},
                         {prefix + "genre_precision_20", f.genre_precision20}});
  if (which == Figures::kAllAndCounts) {
    out.insert(out.end(), {{prefix + "users", static_cast<double>(f.users)},
                           {prefix + "genre_pairs", static_cast<double>(f.pairs)}});
  }
  return out;
}

}  // namespace cvae::modalities::items
