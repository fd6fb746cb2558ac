#include "modalities/items/lite/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "cvae/errors.h"

namespace cvae::modalities::items {
namespace {

struct Positives {
  int64_t user;
  std::vector<int64_t> movies;  // sorted, each once
};

// Users with at least kMinPositives positives, in ascending user id.
std::vector<Positives> positive_users(const std::vector<Rating>& ratings) {
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (user, movie)
  for (const auto& r : ratings) {
    if (r.rating >= kPositiveRating) pairs.emplace_back(r.user, r.item);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<Positives> users;
  for (size_t i = 0; i < pairs.size();) {
    Positives p{pairs[i].first, {}};
    for (; i < pairs.size() && pairs[i].first == p.user; ++i) p.movies.push_back(pairs[i].second);
    if (static_cast<int64_t>(p.movies.size()) >= kMinPositives) users.push_back(std::move(p));
  }
  return users;
}

// A held-out user's known positives split into fold-in and held-out columns; false when fewer
// than 2 are known (the user is dropped).
bool split_items(const Split& split, const Positives& p, double heldout_fraction, SplitMix64* rng,
                 UserItems* out) {
  std::vector<int64_t> known;
  for (const int64_t m : p.movies) {
    const int64_t c = column_of(split, m);
    if (c >= 0) known.push_back(c);
  }
  const int64_t n = static_cast<int64_t>(known.size());
  if (n < 2) return false;
  shuffle(&known, rng);
  const int64_t held =
      std::clamp<int64_t>(std::llround(heldout_fraction * static_cast<double>(n)), 1, n - 1);
  out->user = p.user;
  out->held_out.assign(known.begin(), known.begin() + held);
  out->fold_in.assign(known.begin() + held, known.end());
  std::sort(out->held_out.begin(), out->held_out.end());
  std::sort(out->fold_in.begin(), out->fold_in.end());
  return true;
}

}  // namespace

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  // Values below 2^64 mod n would make the small results likelier: draw again.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

void shuffle(std::vector<int64_t>* v, SplitMix64* rng) {
  for (size_t i = v->size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng->below(i));
    std::swap((*v)[i - 1], (*v)[j]);
  }
}

Split split_users(const std::vector<Rating>& ratings, int64_t n_heldout_users, uint64_t seed,
                  double heldout_fraction) {
  if (n_heldout_users < 1) {
    throw ConfigError(fmt::format("held-out users per split is {} (got {} vs expected at least 1)",
                                  n_heldout_users, n_heldout_users));
  }
  if (!(heldout_fraction > 0 && heldout_fraction < 1)) {
    throw ConfigError(fmt::format(
        "held-out fraction is {} (got {} vs expected a number between 0 and 1, exclusive)",
        heldout_fraction, heldout_fraction));
  }
  const std::vector<Positives> users = positive_users(ratings);
  const int64_t n_users = static_cast<int64_t>(users.size());
  if (n_users < 2 * n_heldout_users + 1) {
    throw DataError(fmt::format(
        "too few users for {} validation and {} test users (got {} users with at least {} "
        "ratings >= {} vs expected at least {})",
        n_heldout_users, n_heldout_users, n_users, kMinPositives, kPositiveRating,
        2 * n_heldout_users + 1));
  }

  SplitMix64 rng(seed);
  std::vector<int64_t> order(static_cast<size_t>(n_users));
  for (int64_t i = 0; i < n_users; ++i) order[static_cast<size_t>(i)] = i;
  shuffle(&order, &rng);
  const auto part = [&](int64_t begin, int64_t end) {
    std::vector<int64_t> p(order.begin() + begin, order.begin() + end);
    std::sort(p.begin(), p.end());  // users are in ascending id: so are their indices
    return p;
  };
  const std::vector<int64_t> validation = part(0, n_heldout_users);
  const std::vector<int64_t> test = part(n_heldout_users, 2 * n_heldout_users);
  const std::vector<int64_t> train = part(2 * n_heldout_users, n_users);

  Split split;
  for (const int64_t u : train) {
    const auto& movies = users[static_cast<size_t>(u)].movies;
    split.items.insert(split.items.end(), movies.begin(), movies.end());
  }
  std::sort(split.items.begin(), split.items.end());
  split.items.erase(std::unique(split.items.begin(), split.items.end()), split.items.end());

  for (const int64_t u : train) {
    const Positives& p = users[static_cast<size_t>(u)];
    UserItems ui{p.user, {}, {}};
    for (const int64_t m : p.movies) ui.fold_in.push_back(column_of(split, m));
    split.train.push_back(std::move(ui));  // columns ascend with movieId
  }
  for (const auto& [indices, out] :
       {std::pair{&validation, &split.validation}, std::pair{&test, &split.test}}) {
    for (const int64_t u : *indices) {
      UserItems ui{0, {}, {}};
      if (split_items(split, users[static_cast<size_t>(u)], heldout_fraction, &rng, &ui)) {
        out->push_back(std::move(ui));
      }
    }
  }
  return split;
}

int64_t column_of(const Split& split, int64_t movie_id) {
  const auto it = std::lower_bound(split.items.begin(), split.items.end(), movie_id);
  if (it == split.items.end() || *it != movie_id) return -1;
  return static_cast<int64_t>(it - split.items.begin());
}

}  // namespace cvae::modalities::items
