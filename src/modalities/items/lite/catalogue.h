// The item catalogue of an item-set model: what each output column is. A model
// stores it as ModelConfig::vocabulary, one entry per column,
// "movieId<TAB>title<TAB>genre|genre|..." (no genres: an empty last field), in
// ascending movieId order. Torch-free: recommend's writer and `info` read it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvae::modalities::items {

inline constexpr const char* kName = "items";
// The first label of the genre condition: no genre asked for (every item).
inline constexpr const char* kAnyGenre = "any";
inline constexpr const char* kGenreCondition = "genre";

struct Catalogue {
  std::vector<int64_t> ids;  // column -> movieId, ascending
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> genres;
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  int64_t column_of(int64_t id) const;  // -1 when the catalogue does not hold it
};

std::vector<std::string> catalogue_entries(const Catalogue& c);
// DataError naming `what` and the entry when one is malformed or out of order.
Catalogue parse_catalogue(const std::vector<std::string>& entries, const std::string& what);
// The genre condition's labels: "any", then the catalogue's genres sorted.
std::vector<std::string> genre_labels(const Catalogue& c);

}  // namespace cvae::modalities::items
