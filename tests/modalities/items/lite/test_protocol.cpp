// The strong-generalisation protocol (src/modalities/items/lite/protocol.cpp): the seeded
// generator, the positives and the users kept, the user split, the items, and each held-out
// user's fold-in / held-out parts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "cvae/errors.h"
#include "modalities/items/lite/protocol.h"
#include "support/expect_error.h"

namespace cvae::modalities::items {
namespace {

using cvae::testing::error_of;

// Ratings of `rating` by user for each movie.
void rate(std::vector<Rating>* out, int64_t user, const std::vector<int64_t>& movies,
          double rating = 4.0) {
  for (const int64_t m : movies) out->push_back({user, m, rating});
}

std::vector<int64_t> range(int64_t begin, int64_t end) {
  std::vector<int64_t> v;
  for (int64_t i = begin; i < end; ++i) v.push_back(i);
  return v;
}

std::vector<int64_t> users_of(const std::vector<UserItems>& part) {
  std::vector<int64_t> u;
  for (const auto& p : part) u.push_back(p.user);
  return u;
}

// n users (ids 1..n), each liking movies 100..100+likes-1.
std::vector<Rating> shared_likes(int64_t n, int64_t likes) {
  std::vector<Rating> r;
  for (int64_t u = 1; u <= n; ++u) rate(&r, u, range(100, 100 + likes));
  return r;
}

bool same(const std::vector<UserItems>& a, const std::vector<UserItems>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].user != b[i].user || a[i].fold_in != b[i].fold_in || a[i].held_out != b[i].held_out)
      return false;
  }
  return true;
}

TEST(ItemsSplitMix64, MatchesTheReferenceOutputs) {
  // splitmix64.c (Vigna), state 1234567: the published first outputs.
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.next(), 6457827717110365317ull);
  EXPECT_EQ(rng.next(), 3203168211198807973ull);
  EXPECT_EQ(rng.next(), 9817491932198370423ull);
  EXPECT_EQ(rng.next(), 4593380528125082431ull);
  EXPECT_EQ(rng.next(), 16408922859458223821ull);
}

TEST(ItemsSplitMix64, BelowAndShuffle) {
  SplitMix64 rng(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(rng.below(1), 0u);
  std::vector<int> seen(3);
  for (int i = 0; i < 300; ++i) ++seen[static_cast<size_t>(rng.below(3))];
  for (const int s : seen) EXPECT_GT(s, 60);  // about 100 each
  std::vector<int64_t> v = range(0, 20);
  shuffle(&v, &rng);
  EXPECT_NE(v, range(0, 20));
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v, range(0, 20));  // a permutation
  std::vector<int64_t> none;
  shuffle(&none, &rng);
  EXPECT_TRUE(none.empty());
}

TEST(ItemsProtocol, SameSeedSameSplitAnotherSeedAnother) {
  std::vector<Rating> r;
  for (int64_t u = 0; u < 40; ++u) rate(&r, u, range(u, u + 8 + u % 5));
  const Split a = split_users(r, 5, 42), b = split_users(r, 5, 42), c = split_users(r, 5, 43);
  EXPECT_EQ(a.items, b.items);
  EXPECT_TRUE(same(a.train, b.train));
  EXPECT_TRUE(same(a.validation, b.validation));
  EXPECT_TRUE(same(a.test, b.test));
  EXPECT_NE(users_of(a.validation), users_of(c.validation));
  EXPECT_NE(users_of(a.test), users_of(c.test));
  // Input order does not matter.
  std::reverse(r.begin(), r.end());
  const Split d = split_users(r, 5, 42);
  EXPECT_TRUE(same(a.validation, d.validation));
  EXPECT_TRUE(same(a.test, d.test));
}

TEST(ItemsProtocol, UsersAreSplitDisjointly) {
  std::vector<Rating> r;
  for (int64_t u = 10; u < 60; ++u) rate(&r, u, range(0, 6));
  const Split s = split_users(r, 7, 1);
  EXPECT_EQ(s.validation.size(), 7u);
  EXPECT_EQ(s.test.size(), 7u);
  EXPECT_EQ(s.train.size(), 36u);
  std::vector<int64_t> all;
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    const std::vector<int64_t> u = users_of(*part);
    EXPECT_TRUE(std::is_sorted(u.begin(), u.end()));
    all.insert(all.end(), u.begin(), u.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, range(10, 60));  // each user once
}

TEST(ItemsProtocol, EightyTwentyOfTheKnownPositives) {
  // 5 users liking movies 100..109: whoever is held out knows all 10.
  const Split s = split_users(shared_likes(5, 10), 1, 3);
  EXPECT_EQ(s.items, range(100, 110));
  ASSERT_EQ(s.validation.size(), 1u);
  ASSERT_EQ(s.test.size(), 1u);
  for (const auto& u : {s.validation[0], s.test[0]}) {
    EXPECT_EQ(u.held_out.size(), 2u);  // round(0.2 * 10)
    EXPECT_EQ(u.fold_in.size(), 8u);
    EXPECT_TRUE(std::is_sorted(u.held_out.begin(), u.held_out.end()));
    EXPECT_TRUE(std::is_sorted(u.fold_in.begin(), u.fold_in.end()));
    std::vector<int64_t> both = u.fold_in;
    both.insert(both.end(), u.held_out.begin(), u.held_out.end());
    std::sort(both.begin(), both.end());
    EXPECT_EQ(both, range(0, 10));  // disjoint, and all of them
  }
  for (const auto& u : s.train) {
    EXPECT_EQ(u.fold_in, range(0, 10));
    EXPECT_TRUE(u.held_out.empty());
  }
  // round(0.2 * 7) = 1, round(0.2 * 8) = 2; a fraction of 0.5 of 7: round(3.5) = 4.
  EXPECT_EQ(split_users(shared_likes(5, 7), 1, 3).test[0].held_out.size(), 1u);
  EXPECT_EQ(split_users(shared_likes(5, 8), 1, 3).test[0].held_out.size(), 2u);
  EXPECT_EQ(split_users(shared_likes(5, 7), 1, 3, 0.5).test[0].held_out.size(), 4u);
  // At least one held out (round(0.05 * 5) = 0), at least one folded in (round(0.95 * 5) = 5).
  const Split few = split_users(shared_likes(5, 5), 1, 3, 0.05);
  EXPECT_EQ(few.test[0].held_out.size(), 1u);
  const Split most = split_users(shared_likes(5, 5), 1, 3, 0.95);
  EXPECT_EQ(most.test[0].held_out.size(), 4u);
  EXPECT_EQ(most.test[0].fold_in.size(), 1u);
}

TEST(ItemsProtocol, PositivesAreRatingsFromThreeAndAHalf) {
  std::vector<Rating> r = shared_likes(4, 5);
  rate(&r, 9, range(100, 105), 3.5);  // 5 positives exactly at the threshold: kept
  rate(&r, 8, range(100, 104), 5.0);  // 4 positives and one 3.4: dropped
  r.push_back({8, 104, 3.4});
  rate(&r, 7, range(200, 220), 3.0);  // many ratings, none positive: dropped
  rate(&r, 9, {300}, 1.0);            // a negative: not an item
  const Split s = split_users(r, 1, 5);
  std::vector<int64_t> all;
  for (const auto* part : {&s.train, &s.validation, &s.test}) {
    const std::vector<int64_t> u = users_of(*part);
    all.insert(all.end(), u.begin(), u.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int64_t>{1, 2, 3, 4, 9}));
  EXPECT_EQ(s.items, range(100, 105));
  EXPECT_EQ(column_of(s, 300), -1);
  EXPECT_EQ(column_of(s, 210), -1);
}

TEST(ItemsProtocol, ItemsComeFromTrainingUsersOnly) {
  // Users 1..6 share movies 100..104 and each likes movie 1000 + u alone.
  std::vector<Rating> r = shared_likes(6, 5);
  for (int64_t u = 1; u <= 6; ++u) rate(&r, u, {1000 + u});
  const Split s = split_users(r, 2, 11);
  std::vector<int64_t> expected = range(100, 105);
  for (const auto& u : s.train) expected.push_back(1000 + u.user);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(s.items, expected);
  EXPECT_EQ(s.train.size(), 2u);
  for (const auto& u : s.train) EXPECT_EQ(u.fold_in.size(), 6u);
  for (const auto* part : {&s.validation, &s.test}) {
    ASSERT_EQ(part->size(), 2u);
    for (const auto& u : *part) {
      EXPECT_EQ(column_of(s, 1000 + u.user), -1);           // their own movie is no item
      EXPECT_EQ(u.held_out.size() + u.fold_in.size(), 5u);  // the shared ones only
      EXPECT_EQ(u.held_out.size(), 1u);                     // round(0.2 * 5)
      for (const int64_t c : u.fold_in) EXPECT_LT(s.items[static_cast<size_t>(c)], 1000);
      for (const int64_t c : u.held_out) EXPECT_LT(s.items[static_cast<size_t>(c)], 1000);
    }
  }
}

TEST(ItemsProtocol, HeldOutUserWithFewerThanTwoKnownItemsIsDropped) {
  // User 50 likes movie 100 (which everybody likes) and five movies nobody else does: held out,
  // only one of them is an item.
  std::vector<Rating> r = shared_likes(6, 5);
  rate(&r, 50, {100, 2000, 2001, 2002, 2003, 2004});
  int held_out_seeds = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Split s = split_users(r, 1, seed);
    const auto train = users_of(s.train);
    if (std::find(train.begin(), train.end(), 50) != train.end()) continue;
    ++held_out_seeds;
    EXPECT_EQ(s.validation.size() + s.test.size(), 1u) << seed;
    for (const auto* part : {&s.validation, &s.test})
      for (const auto& u : *part) EXPECT_NE(u.user, 50) << seed;
  }
  EXPECT_GT(held_out_seeds, 0);
}

TEST(ItemsProtocol, DuplicateRatingsCountOnce) {
  std::vector<Rating> r = shared_likes(3, 5);
  rate(&r, 4, {100, 100, 101, 101, 102});  // 3 distinct positives: dropped
  const Split s = split_users(r, 1, 0);
  EXPECT_EQ(s.train.size() + s.validation.size() + s.test.size(), 3u);
}

TEST(ItemsProtocol, ColumnOf) {
  Split s;
  s.items = {3, 8, 20};
  EXPECT_EQ(column_of(s, 3), 0);
  EXPECT_EQ(column_of(s, 8), 1);
  EXPECT_EQ(column_of(s, 20), 2);
  EXPECT_EQ(column_of(s, 0), -1);
  EXPECT_EQ(column_of(s, 9), -1);
  EXPECT_EQ(column_of(s, 21), -1);
}

TEST(ItemsProtocol, TooFewUsersAndBadOptions) {
  const std::vector<Rating> r = shared_likes(4, 5);
  EXPECT_NO_THROW(split_users(r, 1, 0));
  EXPECT_CONTAINS(error_of([&] { split_users(r, 2, 0); }),
                  "too few users for 2 validation and 2 test users (got 4 users with at least 5 "
                  "ratings >= 3.5 vs expected at least 5)");
  EXPECT_CONTAINS(error_of<ConfigError>([&] { split_users(r, 0, 0); }),
                  "held-out users per split is 0");
  EXPECT_CONTAINS(error_of<ConfigError>([&] { split_users(r, 1, 0, 0.0); }),
                  "held-out fraction is 0");
  EXPECT_CONTAINS(error_of<ConfigError>([&] { split_users(r, 1, 0, 1.0); }),
                  "held-out fraction is 1");
  EXPECT_CONTAINS(error_of([&] { split_users({}, 1, 0); }), "got 0 users");
}

}  // namespace
}  // namespace cvae::modalities::items
