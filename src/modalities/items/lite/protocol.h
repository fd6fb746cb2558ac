// The strong-generalisation protocol of Liang et al. 2018 (Mult-VAE) for MovieLens: whole
// users are held out. Ratings >= kPositiveRating are the positives (the implicit feedback);
// users with fewer than kMinPositives are dropped; some users are set aside for validation
// and test, the rest train; the item columns are the movies liked by training users; each
// held-out user's liked movies are split into the fold-in part (given to the model) and the
// held-out part (to be ranked).
#pragma once

#include <cstdint>
#include <vector>

#include "modalities/items/lite/movielens.h"

namespace cvae::modalities::items {

inline constexpr double kPositiveRating = 3.5;
inline constexpr int64_t kMinPositives = 5;

// splitmix64 (Steele, Lea and Flood 2014): the protocol's own generator, so that a seed
// gives the same split with every standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n) without modulo bias (rejection); n >= 1.
  uint64_t below(uint64_t n);

 private:
  uint64_t state_;
};

// Fisher-Yates: for i from size-1 down to 1, swap v[i] with v[rng.below(i + 1)].
void shuffle(std::vector<int64_t>* v, SplitMix64* rng);

// One user's liked movies as item columns (0..n_items-1), each part sorted.
struct UserItems {
  int64_t user;
  std::vector<int64_t> fold_in;   // all of a training user's items
  std::vector<int64_t> held_out;  // empty for training users
};

struct Split {
  std::vector<int64_t> items;                      // column -> movieId, sorted by movieId
  std::vector<UserItems> train, validation, test;  // each sorted by user
};

// The split, the same for a seed everywhere:
//  1. positives: ratings >= kPositiveRating (a (user, movie) pair given twice counts once);
//     users with >= kMinPositives of them are kept, in ascending user id;
//  2. the users are shuffled (shuffle() with SplitMix64(seed)): the first n_heldout_users
//     are validation, the next n_heldout_users test, the rest train;
//  3. items: the movies among the training users' positives, by movieId;
//  4. training users: all their positives in fold_in;
//  5. validation users, then test users, each in ascending user id: their positives among the
//     items (others are dropped) are shuffled with the same generator; the first
//     round(heldout_fraction * count), at least 1 and at most count - 1, are held out, the
//     rest folded in. A user with fewer than 2 positives among the items is dropped.
// Throws ConfigError when n_heldout_users < 1 or heldout_fraction is not in (0, 1), and
// DataError when fewer than 2 * n_heldout_users + 1 users are kept.
Split split_users(const std::vector<Rating>& ratings, int64_t n_heldout_users, uint64_t seed,
                  double heldout_fraction = 0.2);

// The column of movieId in split.items; -1 when it is not an item.
int64_t column_of(const Split& split, int64_t movie_id);

}  // namespace cvae::modalities::items
