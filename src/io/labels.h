// Label strings <-> label-index rows, without torch (the torch-free generation
// path and data/dataset.h share them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cvae/config.h"

namespace cvae::io {

// One row per requested label: the index of its value in each condition.
using LabelRows = std::vector<std::vector<int64_t>>;

// Resolves user label strings to label-index rows (M rows of K).
//  - single condition: "3", "3,5,7" or "all"
//  - several conditions: "accent=scottish+word=seven"; "all" is every combination
// Unknown names throw ConfigError listing the known labels.
LabelRows parse_label_rows(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested);

// Human-readable name of one row, e.g. "3" or "accent=scottish+word=seven".
std::string label_row_name(const std::vector<ConditionSpec>& conditions,
                           const std::vector<int64_t>& row);

// Whether s is valid UTF-8: rejects bad lead bytes (80..BF, C0, C1, F5..FF), truncated
// sequences, bad continuation bytes, overlong forms, surrogates (U+D800..U+DFFF) and code
// points above U+10FFFF. The empty string is valid.
bool is_valid_utf8(const std::string& s);
// The index of the first byte of s that is not part of valid UTF-8, or npos.
size_t first_invalid_utf8(std::string_view s);

}  // namespace cvae::io
