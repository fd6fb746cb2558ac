#include "io/labels.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"

namespace cvae::io {

namespace {

int64_t find_label(const ConditionSpec& spec, const std::string& name) {
  auto it = std::find(spec.labels.begin(), spec.labels.end(), name);
  if (it == spec.labels.end()) {
    throw ConfigError(
        fmt::format("unknown label '{}' for condition '{}' (expected one of: {}, or all)", name,
                    spec.name, fmt::join(spec.labels, ", ")));
  }
  return it - spec.labels.begin();
}

std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

LabelRows parse_label_rows(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested) {
  const int64_t k = static_cast<int64_t>(conditions.size());
  LabelRows rows;
  auto add_all = [&] {
    // Every combination, the last condition varying fastest.
    std::vector<int64_t> row(static_cast<size_t>(k), 0);
    while (true) {
      rows.push_back(row);
      int64_t j = k - 1;
      while (j >= 0) {
        auto& v = row[static_cast<size_t>(j)];
        if (++v < static_cast<int64_t>(conditions[static_cast<size_t>(j)].labels.size())) break;
        v = 0;
        --j;
      }
      if (j < 0) break;
    }
  };
  if (requested.empty()) throw ConfigError("no label given (expected a label name or all)");
  for (const auto& item : requested) {
    if (item == "all") {
      add_all();
      continue;
    }
    if (k == 1) {
      // "3" or "label=3": the one condition may be named, as with several.
      const std::string named = conditions[0].name + "=";
      const auto& labels = conditions[0].labels;
      for (const auto& name : split_on(item, ',')) {
        const bool prefixed = name.rfind(named, 0) == 0 &&
                              std::find(labels.begin(), labels.end(), name) == labels.end();
        rows.push_back({find_label(conditions[0], prefixed ? name.substr(named.size()) : name)});
      }
      continue;
    }
    std::vector<int64_t> row(static_cast<size_t>(k), -1);
    for (const auto& part : split_on(item, '+')) {
      auto eq = part.find('=');
      if (eq == std::string::npos) {
        throw ConfigError(
            fmt::format("label '{}' does not name its condition (expected name=value joined by "
                        "'+', e.g. {}={})",
                        item, conditions[0].name, conditions[0].labels[0]));
      }
      const std::string cname = part.substr(0, eq);
      auto it = std::find_if(conditions.begin(), conditions.end(),
                             [&](const ConditionSpec& c) { return c.name == cname; });
      if (it == conditions.end()) {
        std::vector<std::string> names;
        for (const auto& c : conditions) names.push_back(c.name);
        throw ConfigError(fmt::format("unknown condition '{}' (expected one of: {})", cname,
                                      fmt::join(names, ", ")));
      }
      row[static_cast<size_t>(it - conditions.begin())] = find_label(*it, part.substr(eq + 1));
    }
    for (int64_t j = 0; j < k; ++j) {
      if (row[static_cast<size_t>(j)] < 0) {
        throw ConfigError(fmt::format("label '{}' does not set condition '{}'", item,
                                      conditions[static_cast<size_t>(j)].name));
      }
    }
    rows.push_back(row);
  }
  return rows;
}

std::string label_row_name(const std::vector<ConditionSpec>& conditions,
                           const std::vector<int64_t>& row) {
  if (conditions.size() == 1) return conditions[0].labels.at(static_cast<size_t>(row.at(0)));
  std::string out;
  for (size_t j = 0; j < conditions.size(); ++j) {
    if (j) out += "+";
    out += conditions[j].name + "=" + conditions[j].labels.at(static_cast<size_t>(row.at(j)));
  }
  return out;
}

size_t first_invalid_utf8(std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;  // continuation byte, C0/C1 (overlong) or F5..FF
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + static_cast<size_t>(k) >= n) return i;  // truncated
      const auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return i;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return std::string_view::npos;
}

bool is_valid_utf8(const std::string& s) { return first_invalid_utf8(s) == std::string_view::npos; }

}  // namespace cvae::io
