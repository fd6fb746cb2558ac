#include "modalities/items/lite/movielens.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "cvae/errors.h"

namespace cvae::modalities::items {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNoGenres = "(no genres listed)";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field for an error message: in quotes, cut after 40 characters.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  return fmt::format("'{}{}'", s.substr(0, kMax), s.size() > kMax ? "..." : "");
}

std::string joined(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) out += (i > 0 ? "," : "") + fields[i];
  return out;
}

// The whole file; what_expected says what the file should be, for the errors.
std::string read_text(const std::string& path, const std::string& what_expected) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    throw DataError(
        fmt::format("cannot read '{}': no such file (expected {})", path, what_expected));
  }
  if (fs::is_directory(st)) {
    throw DataError(
        fmt::format("cannot read '{}': it is a folder (expected {})", path, what_expected));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw DataError(fmt::format("cannot read '{}': read failed", path));
  return bytes.str();
}

// The file's records; throws when there is no header (an empty file) or no row after it.
std::vector<CsvRow> read_rows(const std::string& path, const std::string& header_expected,
                              const std::string& rows_expected) {
  const std::string what =
      fmt::format("a CSV file with the header {}, then {}", header_expected, rows_expected);
  std::vector<CsvRow> rows = split_csv(path, read_text(path, what));
  if (rows.empty()) throw DataError(fmt::format("'{}' is empty (expected {})", path, what));
  if (rows.size() == 1) {
    throw DataError(
        fmt::format("'{}' holds no data (got only the header on line {} vs expected "
                    "{} after it)",
                    path, rows[0].line, rows_expected));
  }
  return rows;
}

// The header's names, trimmed.
std::vector<std::string> header_names(const CsvRow& header) {
  std::vector<std::string> names;
  for (const auto& f : header.fields) names.emplace_back(trim(f));
  return names;
}

// Throws unless the header's first columns are `expected`, in order.
void check_header_starts(const std::string& path, const CsvRow& header,
                         const std::vector<std::string>& expected) {
  const std::vector<std::string> names = header_names(header);
  if (names.size() >= expected.size() &&
      std::equal(expected.begin(), expected.end(), names.begin())) {
    return;
  }
  throw DataError(fmt::format(
      "'{}' line {}: unexpected header (got {} vs expected the columns {} first, others may "
      "follow)",
      path, header.line, excerpt(joined(header.fields)), joined(expected)));
}

void check_field_count(const std::string& path, const CsvRow& row, size_t expected) {
  if (row.fields.size() == expected) return;
  throw DataError(
      fmt::format("'{}' line {}: wrong number of fields (got {} vs expected {}, as in the header)",
                  path, row.line, row.fields.size(), expected));
}

int64_t parse_id(const std::string& path, int64_t line, std::string_view column,
                 const std::string& field) {
  const std::string_view t = trim(field);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range) {
    throw DataError(
        fmt::format("'{}' line {}: {} is out of range (got {} vs expected an integer "
                    "from 0 to 9223372036854775807)",
                    path, line, column, excerpt(field)));
  }
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    throw DataError(
        fmt::format("'{}' line {}: {} is not an integer (got {} vs expected an integer >= 0)", path,
                    line, column, excerpt(field)));
  }
  if (v < 0) {
    throw DataError(fmt::format("'{}' line {}: {} is negative (got {} vs expected an integer >= 0)",
                                path, line, column, v));
  }
  return v;
}

double parse_rating(const std::string& path, int64_t line, const std::string& field) {
  const std::string_view t = trim(field);
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
    throw DataError(fmt::format(
        "'{}' line {}: rating is not a number (got {} vs expected a number from 0.5 to 5)", path,
        line, excerpt(field)));
  }
  if (!(v >= 0.5 && v <= 5.0)) {  // also false for NaN
    throw DataError(
        fmt::format("'{}' line {}: rating out of range (got {} vs expected a number from 0.5 to 5)",
                    path, line, excerpt(field)));
  }
  return v;
}

// "Action|Drama" -> {"Action", "Drama"}; "(no genres listed)" -> {}.
std::vector<std::string> parse_genres(const std::string& path, int64_t line, int64_t id,
                                      const std::string& field) {
  const std::string_view t = trim(field);
  if (t == kNoGenres) return {};
  if (t.empty()) {
    throw DataError(
        fmt::format("'{}' line {}: movieId {} has no genres (got an empty field vs "
                    "expected genres joined by '|', or \"{}\")",
                    path, line, id, kNoGenres));
  }
  std::vector<std::string> genres;
  size_t start = 0;
  for (;;) {
    const size_t bar = t.find('|', start);
    const std::string_view g =
        trim(t.substr(start, bar == std::string_view::npos ? t.npos : bar - start));
    if (g.empty()) {
      throw DataError(
          fmt::format("'{}' line {}: movieId {} has an empty genre (got {} vs "
                      "expected genres joined by '|')",
                      path, line, id, excerpt(field)));
    }
    genres.emplace_back(g);
    if (bar == std::string_view::npos) return genres;
    start = bar + 1;
  }
}

}  // namespace

std::vector<CsvRow> split_csv(const std::string& path, std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  const auto at_crlf = [&](size_t i) {
    return s[i] == '\r' && (i + 1 == s.size() || s[i + 1] == '\n');
  };
  std::vector<CsvRow> rows;
  int64_t line = 1;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\n' || at_crlf(i)) {  // a blank line
      i += s[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    CsvRow row{{}, line};
    for (;;) {  // one field per pass, i at its first character
      std::string field;
      if (i < s.size() && s[i] == '"') {
        const int64_t open = line;
        for (++i;;) {
          if (i == s.size()) {
            throw DataError(fmt::format(
                "'{}' line {}: unterminated quote (got the end of the file vs expected a closing "
                "\")",
                path, open));
          }
          const char c = s[i++];
          if (c == '"') {
            if (i < s.size() && s[i] == '"') {
              field.push_back('"');
              ++i;
              continue;
            }
            break;
          }
          if (c == '\r' && i < s.size() && s[i] == '\n') continue;  // CRLF in quotes -> LF
          if (c == '\n') ++line;
          field.push_back(c);
        }
        if (i < s.size() && s[i] != ',' && s[i] != '\n' && !at_crlf(i)) {
          const size_t nl = s.find('\n', i);
          throw DataError(fmt::format(
              "'{}' line {}: text after a closing quote (got {} vs expected a comma or the line "
              "end)",
              path, line, excerpt(s.substr(i, nl == s.npos ? s.npos : nl - i))));
        }
      } else {
        const size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '\n' && !at_crlf(i)) ++i;
        field.assign(s.substr(start, i - start));
      }
      row.fields.push_back(std::move(field));
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < s.size()) {  // at the line end
      i += s[i] == '\r' ? 2 : 1;
      ++line;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Rating> read_ratings(const std::string& path) {
  const std::vector<CsvRow> rows =
      read_rows(path, "userId,movieId,rating[,timestamp]", "one row per rating");
  check_header_starts(path, rows[0], {"userId", "movieId", "rating"});
  const size_t n_fields = rows[0].fields.size();
  std::vector<Rating> out;
  out.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    check_field_count(path, row, n_fields);
    out.push_back({parse_id(path, row.line, "userId", row.fields[0]),
                   parse_id(path, row.line, "movieId", row.fields[1]),
                   parse_rating(path, row.line, row.fields[2])});
  }
  // (user, movie, row) sorted: a pair twice is adjacent; name the one whose second line is the
  // earliest in the file.
  std::vector<std::tuple<int64_t, int64_t, size_t>> keys;
  keys.reserve(out.size());
  for (size_t r = 0; r < out.size(); ++r) keys.emplace_back(out[r].user, out[r].item, r);
  std::sort(keys.begin(), keys.end());
  size_t first = 0, second = 0;
  for (size_t k = 1; k < keys.size(); ++k) {
    const auto& [u0, m0, r0] = keys[k - 1];
    const auto& [u1, m1, r1] = keys[k];
    if (u0 == u1 && m0 == m1 && (second == 0 || r1 < second)) {
      first = r0;
      second = r1;
    }
  }
  if (second > 0) {
    throw DataError(fmt::format(
        "'{}' lines {} and {}: userId {} rated movieId {} twice (expected one rating per user "
        "and movie)",
        path, rows[first + 1].line, rows[second + 1].line, out[first].user, out[first].item));
  }
  return out;
}

std::vector<Movie> read_movies(const std::string& path) {
  const std::vector<CsvRow> rows = read_rows(path, "movieId,title,genres", "one row per movie");
  check_header_starts(path, rows[0], {"movieId", "title", "genres"});
  const size_t n_fields = rows[0].fields.size();
  std::vector<Movie> out;
  out.reserve(rows.size() - 1);
  std::vector<std::pair<int64_t, int64_t>> ids;  // (movieId, line)
  ids.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    check_field_count(path, row, n_fields);
    const int64_t id = parse_id(path, row.line, "movieId", row.fields[0]);
    out.push_back({id, row.fields[1], parse_genres(path, row.line, id, row.fields[2])});
    ids.emplace_back(id, row.line);
  }
  std::sort(ids.begin(), ids.end());
  std::pair<int64_t, int64_t> first{0, 0}, second{0, 0};
  for (size_t k = 1; k < ids.size(); ++k) {
    if (ids[k].first == ids[k - 1].first && (second.second == 0 || ids[k].second < second.second)) {
      first = ids[k - 1];
      second = ids[k];
    }
  }
  if (second.second > 0) {
    throw DataError(
        fmt::format("'{}' lines {} and {}: movieId {} twice (expected one row per movie)", path,
                    first.second, second.second, first.first));
  }
  return out;
}

std::vector<History> read_history(const std::string& path) {
  const std::vector<CsvRow> rows =
      read_rows(path, "naming userId and movieId (in any order)", "one row per viewing");
  const std::vector<std::string> names = header_names(rows[0]);
  const auto column = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      throw DataError(fmt::format(
          "'{}' line {}: the header has no column {} (got {} vs expected columns userId and "
          "movieId, in any order)",
          path, rows[0].line, name, excerpt(joined(rows[0].fields))));
    }
    return static_cast<size_t>(it - names.begin());
  };
  const size_t user_col = column("userId"), item_col = column("movieId");
  const auto rating_it = std::find(names.begin(), names.end(), "rating");
  const bool has_rating = rating_it != names.end();
  const size_t rating_col = static_cast<size_t>(rating_it - names.begin());
  std::vector<History> out;
  out.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    check_field_count(path, row, names.size());
    out.push_back({parse_id(path, row.line, "userId", row.fields[user_col]),
                   parse_id(path, row.line, "movieId", row.fields[item_col]),
                   has_rating && !row.fields[rating_col].empty()
                       ? parse_rating(path, row.line, row.fields[rating_col])
                       : NAN});
  }
  const auto key = [](const History& h) { return std::pair(h.user, h.item); };
  // A duplicate keeps its highest rating (sorted first).
  std::sort(out.begin(), out.end(), [&](const History& a, const History& b) {
    return key(a) != key(b) ? key(a) < key(b) : a.rating > b.rating;
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [&](const History& a, const History& b) { return key(a) == key(b); }),
            out.end());
  return out;
}

void check_genres(const std::vector<Rating>& ratings, const std::vector<Movie>& movies,
                  const std::string& movies_path) {
  std::vector<int64_t> known;
  known.reserve(movies.size());
  for (const auto& m : movies) known.push_back(m.id);
  std::sort(known.begin(), known.end());
  std::vector<int64_t> missing;
  for (const auto& r : ratings) {
    if (!std::binary_search(known.begin(), known.end(), r.item)) missing.push_back(r.item);
  }
  if (missing.empty()) return;
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  constexpr size_t kShown = 5;
  std::string ids;
  for (size_t i = 0; i < missing.size() && i < kShown; ++i) {
    ids += fmt::format("{}{}", i > 0 ? ", " : "", missing[i]);
  }
  if (missing.size() > kShown) ids += fmt::format(" and {} more", missing.size() - kShown);
  throw DataError(fmt::format(
      "'{}' has no row for {} rated movie{} (got none for movieId {} vs expected a row for every "
      "movieId of the ratings)",
      movies_path, missing.size(), missing.size() == 1 ? "" : "s", ids));
}

std::vector<std::string> genre_names(const std::vector<Movie>& movies) {
  std::vector<std::string> names;
  for (const auto& m : movies) names.insert(names.end(), m.genres.begin(), m.genres.end());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace cvae::modalities::items
