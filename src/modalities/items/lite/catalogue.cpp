#include "modalities/items/lite/catalogue.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::modalities::items {

int64_t Catalogue::column_of(int64_t id) const {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? it - ids.begin() : -1;
}

std::vector<std::string> catalogue_entries(const Catalogue& c) {
  std::vector<std::string> out;
  out.reserve(c.ids.size());
  for (size_t i = 0; i < c.ids.size(); ++i) {
    std::string title = c.titles.at(i);
    std::replace(title.begin(), title.end(), '\t', ' ');
    std::string genres;
    for (const auto& g : c.genres.at(i)) genres += (genres.empty() ? "" : "|") + g;
    out.push_back(fmt::format("{}\t{}\t{}", c.ids[i], title, genres));
  }
  return out;
}

Catalogue parse_catalogue(const std::vector<std::string>& entries, const std::string& what) {
  Catalogue c;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    const auto t1 = e.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : e.find('\t', t1 + 1);
    int64_t id = -1;
    size_t used = 0;
    try {
      id = std::stoll(e.substr(0, t1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (t2 == std::string::npos || used != t1 || id < 0 || (!c.ids.empty() && id <= c.ids.back())) {
      throw DataError(
          fmt::format("{}: catalogue entry {} is malformed (got '{}' vs expected "
                      "movieId<TAB>title<TAB>genres with ids ascending)",
                      what, i + 1, e.substr(0, 80)));
    }
    c.ids.push_back(id);
    c.titles.push_back(e.substr(t1 + 1, t2 - t1 - 1));
    std::vector<std::string> genres;
    const std::string g = e.substr(t2 + 1);
    for (size_t p = 0; p < g.size();) {
      const auto bar = std::min(g.find('|', p), g.size());
      if (bar > p) genres.push_back(g.substr(p, bar - p));
      p = bar + 1;
    }
    c.genres.push_back(std::move(genres));
  }
  return c;
}

std::vector<std::string> genre_labels(const Catalogue& c) {
  std::set<std::string> all;
  for (const auto& gs : c.genres) all.insert(gs.begin(), gs.end());
  std::vector<std::string> out = {kAnyGenre};
  for (const auto& g : all)
    if (g != kAnyGenre) out.push_back(g);
  return out;
}

}  // namespace cvae::modalities::items
