#include "modalities/items/lite/recommend_output.h"

#include <algorithm>

#include <fmt/format.h>

namespace cvae::modalities::items {

std::string recommendations_tsv(const std::vector<Recommendation>& rows) {
  std::string out;
  for (const auto& r : rows) {
    std::string title = r.title;
    std::replace_if(
        title.begin(), title.end(), [](char ch) { return ch == '\t' || ch == '\n' || ch == '\r'; },
        ' ');
    out += fmt::format("{}\t{}\t{}\t{:.6g}\t{}\n", r.user, r.rank, r.item, r.score, title);
  }
  return out;
}

}  // namespace cvae::modalities::items
