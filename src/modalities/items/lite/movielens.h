// The torch-free part of the items modality (MovieLens recommendations, the Mult-VAE of Liang
// et al. 2018): the readers of MovieLens' ratings.csv and movies.csv and of a viewing history
// for `recommend --history`, with the small RFC 4180 CSV splitter they share. Every reader
// throws DataError naming the file and line of what is wrong and what was expected.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cvae::modalities::items {

struct Rating {
  int64_t user;
  int64_t item;  // a movieId
  double rating;
};

struct Movie {
  int64_t id;
  std::string title;                // may be empty
  std::vector<std::string> genres;  // empty for "(no genres listed)"
};

struct History {
  int64_t user;
  int64_t item;         // a movieId
  double rating = NAN;  // NaN when the file has no rating column, or the field is empty
};

// One CSV record: its fields (quotes removed, "" turned into ") and the line it starts on.
struct CsvRow {
  std::vector<std::string> fields;
  int64_t line;
};

// Splits CSV text (RFC 4180: a field in double quotes may hold commas, line breaks and "" for
// a quote) into records. Lines end in LF or CRLF; blank lines are skipped; a UTF-8 byte order
// mark at the start is dropped. Throws DataError naming path and line on an unterminated
// quote or text after a closing quote.
std::vector<CsvRow> split_csv(const std::string& path, std::string_view text);

// ratings.csv: a header whose first three columns are userId,movieId,rating (more may follow,
// e.g. timestamp, and are ignored), then one row per rating with as many fields as the
// header: ids integers >= 0, rating a number in [0.5, 5]. A (userId, movieId) pair twice is
// an error naming both lines. Ratings in file order.
std::vector<Rating> read_ratings(const std::string& path);

// movies.csv: a header whose first three columns are movieId,title,genres, then one row per
// movie: movieId an integer >= 0 (each once), a title (CSV-quoted when it holds a comma or a
// quote; may be empty), genres joined by '|' or "(no genres listed)". Movies in file order.
std::vector<Movie> read_movies(const std::string& path);

// A viewing history: a header with columns userId and movieId in any order, and optionally
// rating (checked as in ratings.csv; other columns are ignored), then one row per viewing. A
// pair given twice counts once, with its highest rating. Sorted by user, then movieId.
std::vector<History> read_history(const std::string& path);

// Throws DataError when a rated movie has no row in movies.csv (naming up to 5 of the
// missing movieIds, the smallest, and how many there are).
void check_genres(const std::vector<Rating>& ratings, const std::vector<Movie>& movies,
                  const std::string& movies_path);

// Every genre of the movies, sorted, each once.
std::vector<std::string> genre_names(const std::vector<Movie>& movies);

}  // namespace cvae::modalities::items
