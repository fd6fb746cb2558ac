// Ranking evaluation of item-set models (docs/recommend.md): the held-out
// users' fold-in items in, the model's scores out, Recall@20/50 and NDCG@100
// of their held-out items; per (user, genre) pair NDCG@100 and genre
// precision@20; and the baselines on the same users (popularity, EASE).
//
// Shapes: U users, I items, L genre labels.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "modalities/items/items_data.h"
#include "models/cvae_model.h"

namespace cvae::modalities::items {

// Scores (U, I) for users x (U, I) under label rows labels (U,) of the genre
// condition: higher = recommend first; -inf = never.
using Scorer = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& labels)>;

// The model's: the decoder's logits at the posterior mean, in batches, in eval mode.
Scorer model_scorer(models::CVAEImpl& model, int64_t batch = 256);

// EASE (Steck 2019): B = I - P diag(1 / diag(P)) with P = (X^T X + lambda I)^-1,
// so diag(B) = 0; scores x B. X (N, I) the training users' items.
torch::Tensor ease_weights(const torch::Tensor& x, double lambda);
// A scorer that ignores the label and scores x by `base` (an (I, I) item
// weight matrix: x W), or by fixed item scores (1, I) (popularity).
Scorer matrix_scorer(torch::Tensor w);
Scorer fixed_scorer(torch::Tensor item_scores);
// s's scores, -inf outside the label's items (allowed (L, I), allowed_items).
Scorer restricted(Scorer s, torch::Tensor allowed);
// s asked for label `label` whatever label is requested (the model's "any", 0).
Scorer with_label(Scorer s, int64_t label);

struct RankingFigures {
  int64_t users = 0;
  double recall20 = 0, recall50 = 0, ndcg100 = 0;
  // Per (user, genre) pair with held-out items of the genre: relevant = those.
  int64_t pairs = 0;
  double genre_ndcg100 = 0, genre_precision20 = 0;
};

// `genre_scorer` ranks for the pairs (the same scorer, or a restricted one).
RankingFigures rank_held_out(const std::vector<UserItems>& users, const Catalogue& cat,
                             const std::vector<std::string>& labels, const Scorer& scorer,
                             const Scorer& genre_scorer);

// Named figures "<prefix>recall_20", ... in the order eval reports them: all of them
// and the counts of users and pairs, all, or only the genre task's.
enum class Figures { kAllAndCounts, kAll, kGenre };
std::vector<std::pair<std::string, double>> figures(const RankingFigures& f,
                                                    const std::string& prefix, Figures which);

}  // namespace cvae::modalities::items
