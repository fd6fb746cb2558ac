// Test support: a tiny item-set folder in MovieLens's layout (ratings.csv,
// movies.csv) with a planted structure, for the items modality's tests.
//
// 30 movies, ids 10, 20, ..., 300: movie m (0-based) has genre kItemGenres[m % 3]
// ("Action", "Comedy", "Drama"), and every fifth movie also "Romance". User u
// (1-based, `users` of them) likes genre (u % 3): rates 7 of its 10 movies 4.0
// or 5.0 (which 7 drawn from seed) and 3 movies of the other genres 1.0-3.0 (below
// the 3.5 positives threshold). Torch-free.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"

namespace cvae::testing {

inline const std::vector<std::string> kItemGenres = {"Action", "Comedy", "Drama"};
inline constexpr int64_t kItemMovies = 30;

inline int64_t item_movie_id(int64_t m) { return 10 * (m + 1); }
inline int64_t item_genre(int64_t m) { return m % 3; }

inline void write_item_folder(const std::string& dir, int64_t users = 60, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::string movies = "movieId,title,genres\n";
  for (int64_t m = 0; m < kItemMovies; ++m) {
    std::string g = kItemGenres[static_cast<size_t>(item_genre(m))];
    if (m % 5 == 0) g += "|Romance";
    // Every third title has a comma, so it is quoted.
    const std::string title =
        m % 3 == 0 ? fmt::format("\"Movie {}, The\"", m) : fmt::format("Movie {}", m);
    movies += fmt::format("{},{},{}\n", item_movie_id(m), title, g);
  }
  std::string ratings = "userId,movieId,rating,timestamp\n";
  for (int64_t u = 1; u <= users; ++u) {
    const int64_t liked = u % 3;
    std::vector<int64_t> own, other;
    for (int64_t m = 0; m < kItemMovies; ++m) (item_genre(m) == liked ? own : other).push_back(m);
    std::shuffle(own.begin(), own.end(), rng);
    std::shuffle(other.begin(), other.end(), rng);
    for (int i = 0; i < 7; ++i)
      ratings += fmt::format("{},{},{:.1f},{}\n", u, item_movie_id(own[static_cast<size_t>(i)]),
                             4.0 + static_cast<double>(rng() % 2), 1000 + i);
    for (int i = 0; i < 3; ++i)
      ratings += fmt::format("{},{},{:.1f},{}\n", u, item_movie_id(other[static_cast<size_t>(i)]),
                             1.0 + static_cast<double>(rng() % 3), 2000 + i);
  }
  core::create_parent_dirs(dir + "/movies.csv");
  core::write_file_atomic(dir + "/movies.csv", movies);
  core::write_file_atomic(dir + "/ratings.csv", ratings);
}

}  // namespace cvae::testing
