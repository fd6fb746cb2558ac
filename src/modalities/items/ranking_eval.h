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

// Row r of scores (R, I) float32, for top_k (lite/ranking.h).
std::vector<float> row_scores(const torch::Tensor& scores, int64_t r);

// The model's: the decoder's logits at the posterior mean, in batches, in eval mode.
Scorer model_scorer(models::CVAEImpl& model, int64_t batch = 256);

// EASE (Steck 2019): B = I - P diag(1 / diag(P)) with P = (G + lambda I)^-1 and
// G = X^T X the training users' item co-occurrences (X (N, I)), so diag(B) = 0;
// scores x B. ease_gram(x) once, then ease_weights for each lambda.
torch::Tensor ease_gram(const torch::Tensor& x);
torch::Tensor ease_weights(const torch::Tensor& gram, double lambda);
// A scorer that ignores the label and scores x by an (I, I) item weight matrix
// (x W), or by fixed item scores (I,) (popularity).
Scorer matrix_scorer(torch::Tensor w);
Scorer fixed_scorer(torch::Tensor item_scores);
// scores (P, I) with -inf outside the items label l of labels (P,) allows
// (allowed (L, I), allowed_items).
torch::Tensor keep_to_labels(const torch::Tensor& scores, const torch::Tensor& allowed,
                             const torch::Tensor& labels);

struct RankingFigures {
  int64_t users = 0;
  double recall20 = 0, recall50 = 0, ndcg100 = 0;
  // Per (user, genre) pair with held-out items of the genre: relevant = those.
  int64_t pairs = 0;
  double genre_ndcg100 = 0, genre_precision20 = 0;
};

// How the (user, genre) pairs are ranked: the scorer asked for the genre, the
// user's "any" scores kept to the genre's items (keep_to_labels), or not at all.
enum class Genre { kAsk, kKeep, kSkip };

// The users' held-out items ranked by their "any" scores (label 0), and the
// pairs as `genre` says.
RankingFigures rank_held_out(const std::vector<UserItems>& users, const Catalogue& cat,
                             const std::vector<std::string>& labels, const Scorer& scorer,
                             Genre genre);

// Named figures "<prefix>recall_20", ... in the order eval reports them: all of them
// and the counts of users and pairs, all, or only the genre task's.
enum class Figures { kAllAndCounts, kAll, kGenre };
std::vector<std::pair<std::string, double>> figures(const RankingFigures& f,
                                                    const std::string& prefix, Figures which);

}  // namespace cvae::modalities::items
