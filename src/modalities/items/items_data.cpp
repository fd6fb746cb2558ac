#include "modalities/items/items_data.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "modalities/items/lite/movielens.h"

namespace fs = std::filesystem;

namespace cvae::modalities::items {
namespace {

std::string file_in(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

// Columns of `users` renumbered from split.items' columns to the catalogue's,
// dropping items it does not hold.
void remap(std::vector<UserItems>& users, const std::vector<int64_t>& split_items,
           const Catalogue& cat) {
  auto map = [&](std::vector<int64_t>& cols) {
    std::vector<int64_t> out;
    for (auto col : cols) {
      const int64_t c = cat.column_of(split_items.at(static_cast<size_t>(col)));
      if (c >= 0) out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    cols = std::move(out);
  };
  for (auto& u : users) map(u.fold_in), map(u.held_out);
}

}  // namespace

bool is_item_folder(const DataConfig& cfg) {
  std::error_code ec;
  return fs::is_directory(cfg.path, ec) &&
         fs::is_regular_file(file_in(cfg.path, "ratings.csv"), ec) &&
         fs::is_regular_file(file_in(cfg.path, "movies.csv"), ec);
}

ItemData read_items(const DataConfig& cfg, const std::vector<std::string>& model_catalogue) {
  if (!is_item_folder(cfg)) {
    throw DataError(
        fmt::format("'{}' is not an item-set folder (expected ratings.csv and movies.csv in it, as "
                    "scripts/fetch-data.sh movielens writes)",
                    cfg.path));
  }
  const std::string movies_path = file_in(cfg.path, "movies.csv");
  const auto ratings = read_ratings(file_in(cfg.path, "ratings.csv"));
  const auto movies = read_movies(movies_path);
  check_genres(ratings, movies, movies_path);
  ItemData d;
  d.source = cfg.path;
  d.split = split_users(ratings, cfg.heldout_users, cfg.split_seed);
  if (model_catalogue.empty()) {
    std::map<int64_t, const Movie*> by_id;
    for (const auto& m : movies) by_id[m.id] = &m;
    for (auto id : d.split.items) {
      const Movie& m = *by_id.at(id);  // check_genres: every rated movie is listed
      d.catalogue.ids.push_back(id);
      d.catalogue.titles.push_back(m.title);
      d.catalogue.genres.push_back(m.genres);
    }
  } else {
    d.catalogue = parse_catalogue(model_catalogue, "the model's catalogue");
    remap(d.split.train, d.split.items, d.catalogue);
    remap(d.split.validation, d.split.items, d.catalogue);
    remap(d.split.test, d.split.items, d.catalogue);
    d.split.items = d.catalogue.ids;
  }
  d.labels = genre_labels(d.catalogue);
  return d;
}

torch::Tensor multi_hot(const std::vector<std::vector<int64_t>>& columns, int64_t items) {
  auto x = torch::zeros({static_cast<int64_t>(columns.size()), items}, torch::kFloat32);
  auto a = x.accessor<float, 2>();
  for (size_t r = 0; r < columns.size(); ++r)
    for (auto c : columns[r]) a[static_cast<int64_t>(r)][c] = 1.0f;
  return x;
}

torch::Tensor allowed_items(const Catalogue& c, const std::vector<std::string>& labels) {
  const int64_t l = static_cast<int64_t>(labels.size());
  auto m = torch::zeros({l, c.size()}, torch::kFloat32);
  auto a = m.accessor<float, 2>();
  std::map<std::string, int64_t> row;
  for (int64_t i = 0; i < l; ++i) row[labels[static_cast<size_t>(i)]] = i;
  for (int64_t i = 0; i < c.size(); ++i) {
    a[0][i] = 1.0f;  // "any"
    for (const auto& g : c.genres[static_cast<size_t>(i)]) {
      auto it = row.find(g);
      if (it != row.end() && it->second > 0) a[it->second][i] = 1.0f;
    }
  }
  return m;
}

data::Dataset item_rows(const ItemData& d, const std::string& split, bool genre_rows) {
  const std::vector<UserItems>& users = split == "train"        ? d.split.train
                                        : split == "validation" ? d.split.validation
                                                                : d.split.test;
  const bool training = split == "train";
  std::map<std::string, int64_t> label_of;
  for (size_t i = 0; i < d.labels.size(); ++i) label_of[d.labels[i]] = static_cast<int64_t>(i);
  std::vector<std::vector<int64_t>> rows;
  std::vector<int64_t> labels, ids;
  for (const auto& u : users) {
    std::vector<int64_t> all = u.fold_in;
    all.insert(all.end(), u.held_out.begin(), u.held_out.end());
    std::sort(all.begin(), all.end());
    if (all.empty()) continue;
    rows.push_back(all), labels.push_back(0), ids.push_back(u.user);
    if (!training || !genre_rows) continue;
    std::vector<int64_t> genres;
    for (auto col : all)
      for (const auto& g : d.catalogue.genres[static_cast<size_t>(col)]) {
        auto it = label_of.find(g);
        if (it != label_of.end() && it->second > 0) genres.push_back(it->second);
      }
    std::sort(genres.begin(), genres.end());
    genres.erase(std::unique(genres.begin(), genres.end()), genres.end());
    for (auto g : genres) rows.push_back(all), labels.push_back(g), ids.push_back(u.user);
  }
  data::Dataset out;
  out.source = d.source;
  out.modality = kName;
  out.conditions = {ConditionSpec{kGenreCondition, "categorical", d.labels}};
  out.vocabulary = catalogue_entries(d.catalogue);
  out.x = multi_hot(rows, d.catalogue.size());
  out.y = torch::tensor(labels, torch::kInt64).view({-1, 1});
  out.ids = torch::tensor(ids, torch::kInt64);
  return out;
}

}  // namespace cvae::modalities::items
