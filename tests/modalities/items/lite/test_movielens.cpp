// The items modality's readers (src/modalities/items/lite/movielens.cpp): the CSV splitter,
// ratings.csv, movies.csv, a viewing history, and the checks across them, on small files
// written here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "modalities/items/lite/movielens.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace cvae::modalities::items {
namespace {

using cvae::testing::error_of;

// Writes text (bytes as given) to dir/name and returns the path.
std::string write(const cvae::testing::TempDir& dir, const std::string& name,
                  const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string ratings_error(const std::string& text) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path = write(dir, "ratings.csv", text);
  return error_of([&] { read_ratings(path); });
}

std::string movies_error(const std::string& text) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path = write(dir, "movies.csv", text);
  return error_of([&] { read_movies(path); });
}

std::string history_error(const std::string& text) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path = write(dir, "history.csv", text);
  return error_of([&] { read_history(path); });
}

// --- split_csv -------------------------------------------------------------------------------

TEST(ItemsCsv, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const auto rows =
      split_csv("x.csv", "a,\"b, c\",\"say \"\"hi\"\"\"\n\"two\nlines\",,\"\"\nlast,1,2");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"a", "b, c", "say \"hi\""}));
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"two\nlines", "", ""}));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"last", "1", "2"}));
  EXPECT_EQ(rows[2].line, 4);  // the quoted line break counts
}

TEST(ItemsCsv, CrlfBlankLinesAndByteOrderMark) {
  const auto rows = split_csv("x.csv", "\xEF\xBB\xBFh1,h2\r\n\r\n1,\"a\"\r\n2,b\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"1", "a"}));
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"2", "b"}));
  EXPECT_EQ(rows[2].line, 4);
  EXPECT_TRUE(split_csv("x.csv", "").empty());
  EXPECT_EQ(split_csv("x.csv", "a,").at(0).fields, (std::vector<std::string>{"a", ""}));
}

TEST(ItemsCsv, UnterminatedQuoteAndTextAfterQuote) {
  std::string e = error_of([] { split_csv("x.csv", "a,b\n1,\"open\n2,3\n"); });
  EXPECT_CONTAINS(e, "'x.csv' line 2: unterminated quote");
  e = error_of([] { split_csv("x.csv", "a,b\n1,\"q\"x\n"); });
  EXPECT_CONTAINS(e, "'x.csv' line 2: text after a closing quote (got 'x'");
}

// --- read_ratings ----------------------------------------------------------------------------

TEST(ItemsMovielens, ReadsRatingsWithTimestampAndExtraColumns) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path = write(dir, "ratings.csv",
                                 "userId,movieId,rating,timestamp,note\r\n"
                                 "1,31,2.5,1260759144,x\r\n"
                                 "1,1029,3,1260759179,\r\n"
                                 "7, 0 ,5,0,\"a, b\"\r\n");
  const auto r = read_ratings(path);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].user, 1);
  EXPECT_EQ(r[0].item, 31);
  EXPECT_DOUBLE_EQ(r[0].rating, 2.5);
  EXPECT_EQ(r[1].item, 1029);
  EXPECT_DOUBLE_EQ(r[1].rating, 3.0);
  EXPECT_EQ(r[2].user, 7);
  EXPECT_EQ(r[2].item, 0);  // spaces around a number are fine
  EXPECT_DOUBLE_EQ(r[2].rating, 5.0);
}

TEST(ItemsMovielens, ReadsRatingsWithoutTimestamp) {
  cvae::testing::TempDir dir("cvae-items");
  const auto r = read_ratings(write(dir, "r.csv", "userId,movieId,rating\n2,3,0.5"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].user, 2);
  EXPECT_DOUBLE_EQ(r[0].rating, 0.5);
}

TEST(ItemsMovielens, RatingsHeaderMustStartWithTheThreeColumns) {
  std::string e = ratings_error("movieId,userId,rating\n1,2,3\n");
  EXPECT_CONTAINS(e, "ratings.csv' line 1: unexpected header (got 'movieId,userId,rating'");
  EXPECT_CONTAINS(e, "expected the columns userId,movieId,rating first");
  EXPECT_CONTAINS(ratings_error("userId,movieId\n1,2\n"), "unexpected header");
  EXPECT_CONTAINS(ratings_error("1,31,2.5,1260759144\n1,32,3,1260759145\n"), "unexpected header");
}

TEST(ItemsMovielens, RatingsWrongFieldCount) {
  std::string e = ratings_error("userId,movieId,rating,timestamp\n1,2,3,4\n1,3,4\n");
  EXPECT_CONTAINS(e, "ratings.csv' line 3: wrong number of fields (got 3 vs expected 4");
  e = ratings_error("userId,movieId,rating\n1,2,3,4\n");
  EXPECT_CONTAINS(e, "line 2: wrong number of fields (got 4 vs expected 3");
}

TEST(ItemsMovielens, RatingsIdsAreIntegersFromZero) {
  std::string e = ratings_error("userId,movieId,rating\n1,2,3\nabc,2,3\n");
  EXPECT_CONTAINS(e,
                  "ratings.csv' line 3: userId is not an integer (got 'abc' vs expected an "
                  "integer >= 0)");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2.0,3\n"),
                  "line 2: movieId is not an integer (got '2.0'");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,,3\n"),
                  "line 2: movieId is not an integer (got ''");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n-4,2,3\n"),
                  "line 2: userId is negative (got -4 vs expected an integer >= 0)");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,99999999999999999999,3\n"),
                  "line 2: movieId is out of range");
}

TEST(ItemsMovielens, RatingsAreNumbersFromHalfToFive) {
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2,5.5\n"),
                  "line 2: rating out of range (got '5.5' vs expected a number from 0.5 to 5)");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2,0\n"), "rating out of range (got '0'");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2,nan\n"),
                  "rating out of range (got 'nan'");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2,good\n"),
                  "line 2: rating is not a number (got 'good'");
  EXPECT_CONTAINS(ratings_error("userId,movieId,rating\n1,2,4x\n"), "rating is not a number");
}

TEST(ItemsMovielens, RatingsDuplicatePairNamesBothLines) {
  const std::string e = ratings_error("userId,movieId,rating\n1,2,3\n1,5,3\n2,2,3\n1,5,4\n1,2,1\n");
  // Two pairs repeat; the one whose second line comes first is named.
  EXPECT_CONTAINS(e, "ratings.csv' lines 3 and 5: userId 1 rated movieId 5 twice");
}

TEST(ItemsMovielens, RatingsEmptyHeaderOnlyMissingFolder) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string empty = write(dir, "empty.csv", "");
  std::string e = error_of([&] { read_ratings(empty); });
  EXPECT_CONTAINS(e,
                  "'" + empty + "' is empty (expected a CSV file with the header userId,movieId");
  EXPECT_CONTAINS(error_of([&] { read_ratings(write(dir, "blank.csv", "\n\r\n")); }), "is empty");
  const std::string header = write(dir, "header.csv", "userId,movieId,rating,timestamp\n");
  e = error_of([&] { read_ratings(header); });
  EXPECT_CONTAINS(e, "'" + header + "' holds no data (got only the header on line 1");
  const std::string missing = dir.file("nope.csv");
  e = error_of([&] { read_ratings(missing); });
  EXPECT_CONTAINS(e, "cannot read '" + missing + "': no such file (expected a CSV file");
  e = error_of([&] { read_ratings(dir.path()); });
  EXPECT_CONTAINS(e, "cannot read '" + dir.path() + "': it is a folder");
}

// --- read_movies -----------------------------------------------------------------------------

TEST(ItemsMovielens, ReadsMoviesWithQuotedTitlesAndGenres) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path =
      write(dir, "movies.csv",
            "movieId,title,genres\r\n"
            "1,Toy Story (1995),Adventure|Animation|Children\r\n"
            "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
            "7789,\"11'09\"\"01 - September 11\",Drama\r\n"
            "51372,\"\"\"Great Performances\"\" Cats, \"\"Live\"\"\",Musical\r\n"
            "143410,,(no genres listed)\r\n");
  const auto m = read_movies(path);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].id, 1);
  EXPECT_EQ(m[0].title, "Toy Story (1995)");
  EXPECT_EQ(m[0].genres, (std::vector<std::string>{"Adventure", "Animation", "Children"}));
  EXPECT_EQ(m[1].title, "American President, The (1995)");
  EXPECT_EQ(m[1].genres, (std::vector<std::string>{"Comedy", "Drama", "Romance"}));
  EXPECT_EQ(m[2].title, "11'09\"01 - September 11");
  EXPECT_EQ(m[3].title, "\"Great Performances\" Cats, \"Live\"");
  EXPECT_EQ(m[3].genres, std::vector<std::string>{"Musical"});
  EXPECT_EQ(m[4].id, 143410);
  EXPECT_EQ(m[4].title, "");
  EXPECT_TRUE(m[4].genres.empty());
  EXPECT_EQ(genre_names(m), (std::vector<std::string>{"Adventure", "Animation", "Children",
                                                      "Comedy", "Drama", "Musical", "Romance"}));
}

TEST(ItemsMovielens, MoviesBadHeaderAndFieldCount) {
  EXPECT_CONTAINS(movies_error("id,title,genres\n1,A,Drama\n"),
                  "movies.csv' line 1: unexpected header (got 'id,title,genres' vs expected the "
                  "columns movieId,title,genres first");
  // An unquoted comma in a title makes one field too many.
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n1,A,Drama\n2,President, The,Drama\n"),
                  "movies.csv' line 3: wrong number of fields (got 4 vs expected 3");
  EXPECT_CONTAINS(movies_error("movieId,title,genres\nx1,A,Drama\n"),
                  "line 2: movieId is not an integer (got 'x1'");
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n1,\"A,Drama\n"),
                  "line 2: unterminated quote");
}

TEST(ItemsMovielens, MoviesNeedGenres) {
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n1,A,Drama\n2,B,\n"),
                  "movies.csv' line 3: movieId 2 has no genres (got an empty field vs expected "
                  "genres joined by '|', or \"(no genres listed)\")");
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n3,C,Action||Drama\n"),
                  "line 2: movieId 3 has an empty genre (got 'Action||Drama'");
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n3,C,Action|\n"), "has an empty genre");
}

TEST(ItemsMovielens, MoviesDuplicateIdNamesBothLines) {
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n5,A,Drama\n6,B,Drama\n5,C,Comedy\n"),
                  "movies.csv' lines 2 and 4: movieId 5 twice (expected one row per movie)");
}

TEST(ItemsMovielens, MoviesEmptyOrMissing) {
  EXPECT_CONTAINS(movies_error(""),
                  "is empty (expected a CSV file with the header "
                  "movieId,title,genres");
  EXPECT_CONTAINS(movies_error("movieId,title,genres\n"), "holds no data");
  cvae::testing::TempDir dir("cvae-items");
  EXPECT_CONTAINS(error_of([&] { read_movies(dir.file("movies.csv")); }), "no such file");
}

// --- read_history ----------------------------------------------------------------------------

TEST(ItemsMovielens, HistoryColumnsInAnyOrderDuplicatesCollapsed) {
  cvae::testing::TempDir dir("cvae-items");
  const std::string path = write(dir, "h.csv",
                                 "rating,movieId,userId\r\n"
                                 "1,50,2\r\n"
                                 "5,10,2\r\n"
                                 "0.5,50,2\r\n"  // twice: counts once, its highest rating
                                 ",7,1\r\n");    // no rating
  const auto h = read_history(path);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].user, 1);
  EXPECT_EQ(h[0].item, 7);
  EXPECT_TRUE(std::isnan(h[0].rating));
  EXPECT_EQ(h[1].user, 2);
  EXPECT_EQ(h[1].item, 10);
  EXPECT_EQ(h[1].rating, 5.0);
  EXPECT_EQ(h[2].user, 2);
  EXPECT_EQ(h[2].item, 50);
  EXPECT_EQ(h[2].rating, 1.0);
  // Without a rating column every row has none.
  const auto plain = read_history(write(dir, "p.csv", "userId,movieId\n3,4\n"));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(std::isnan(plain[0].rating));
}

TEST(ItemsMovielens, HistoryErrorsNameTheLine) {
  std::string e = history_error("userId,title\n1,A\n");
  EXPECT_CONTAINS(e,
                  "history.csv' line 1: the header has no column movieId (got 'userId,title' "
                  "vs expected columns userId and movieId, in any order)");
  EXPECT_CONTAINS(history_error("movieId,userId\n1,2\n3\n"),
                  "history.csv' line 3: wrong number of fields (got 1 vs expected 2");
  EXPECT_CONTAINS(history_error("movieId,userId\n1,2\n1,u7\n"),
                  "history.csv' line 3: userId is not an integer (got 'u7'");
  EXPECT_CONTAINS(history_error("movieId,userId\n"), "holds no data");
  EXPECT_CONTAINS(history_error("movieId,userId,rating\n1,2,9\n"), "history.csv' line 2");
  EXPECT_CONTAINS(history_error(""), "is empty");
}

// --- check_genres ----------------------------------------------------------------------------

TEST(ItemsMovielens, EveryRatedMovieNeedsARow) {
  const std::vector<Movie> movies = {{1, "A", {"Drama"}}, {2, "B", {}}};
  check_genres({{1, 1, 4.0}, {2, 2, 3.0}, {3, 1, 1.0}}, movies, "movies.csv");  // no throw
  std::vector<Rating> ratings;
  for (const int64_t id : {90, 10, 30, 1, 70, 20, 60, 50, 10}) ratings.push_back({1, id, 4.0});
  const std::string e = error_of([&] { check_genres(ratings, movies, "m/movies.csv"); });
  EXPECT_CONTAINS(e,
                  "'m/movies.csv' has no row for 7 rated movies (got none for movieId 10, 20, "
                  "30, 50, 60 and 2 more vs expected a row for every movieId of the ratings)");
  EXPECT_CONTAINS(error_of([&] {
                    check_genres({{1, 3, 4.0}}, movies, "m.csv");
                  }),
                  "no row for 1 rated movie (got none for movieId 3 vs");
}

TEST(ItemsMovielens, GenreNamesSortedOnce) {
  EXPECT_EQ(genre_names({{1, "", {"War", "Drama"}}, {2, "", {}}, {3, "", {"Drama", "Action"}}}),
            (std::vector<std::string>{"Action", "Drama", "War"}));
  EXPECT_TRUE(genre_names({}).empty());
}

}  // namespace
}  // namespace cvae::modalities::items
