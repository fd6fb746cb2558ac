#include "data/dataset.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"

namespace cvae::data {

std::vector<int64_t> Dataset::example_shape() const {
  auto s = x.sizes().vec();
  s.erase(s.begin());
  return s;
}

Dataset Dataset::subset(const torch::Tensor& index) const {
  Dataset d;
  d.x = x.index_select(0, index);
  d.y = y.index_select(0, index);
  d.conditions = conditions;
  d.source = source;
  d.modality = modality;
  d.vocabulary = vocabulary;
  if (ids.defined()) d.ids = ids.index_select(0, index);
  return d;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& all, double fraction, uint64_t seed) {
  const int64_t n = all.size();
  const int64_t n_val = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
  if (n_val >= n) {
    throw ConfigError(
        fmt::format("validation split leaves no training data (got {} of {} examples)", n_val, n));
  }
  if (n_val == 0) return {all, all.subset(torch::empty({0}, torch::kInt64))};  // no copy
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed ^ 0x5eedf00dULL);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::sort(perm.begin(), perm.begin() + n_val);
  std::sort(perm.begin() + n_val, perm.end());
  auto idx = torch::tensor(perm, torch::kInt64);
  Dataset val = all.subset(idx.slice(0, 0, n_val));
  Dataset train = all.subset(idx.slice(0, n_val, n));
  return {train, val};
}

torch::Tensor stratified_subset(const Dataset& d, int64_t n, uint64_t seed) {
  if (n < 1 || n > d.size()) {
    throw ConfigError(
        fmt::format("labelled examples out of range (got {} vs expected 1..{})", n, d.size()));
  }
  const int64_t labels = static_cast<int64_t>(d.conditions.at(0).labels.size());
  std::vector<std::vector<int64_t>> by_label(static_cast<size_t>(labels));
  auto y = d.y.select(1, 0).contiguous();
  for (int64_t i = 0; i < d.size(); ++i)
    by_label[static_cast<size_t>(y[i].item<int64_t>())].push_back(i);
  std::mt19937_64 rng(seed ^ 0x1abe11edULL);
  for (auto& v : by_label) std::shuffle(v.begin(), v.end(), rng);
  // Round-robin over labels: an even share each, small labels exhausted first.
  std::vector<int64_t> picked;
  std::vector<size_t> next(static_cast<size_t>(labels), 0);
  while (static_cast<int64_t>(picked.size()) < n) {
    for (size_t k = 0; k < by_label.size() && static_cast<int64_t>(picked.size()) < n; ++k) {
      if (next[k] < by_label[k].size()) picked.push_back(by_label[k][next[k]++]);
    }
  }
  std::sort(picked.begin(), picked.end());
  return torch::tensor(picked, torch::kInt64);
}

void check_compatible(Dataset& d, const std::vector<int64_t>& shape,
                      const std::vector<ConditionSpec>& expected) {
  if (d.example_shape() != shape) {
    throw DataError(
        fmt::format("'{}' has examples of shape {} (expected {} as the model was trained on)",
                    d.source, fmt::join(d.example_shape(), "x"), fmt::join(shape, "x")));
  }
  if (d.conditions.size() != expected.size()) {
    throw DataError(fmt::format("'{}' has {} conditions (expected {})", d.source,
                                d.conditions.size(), expected.size()));
  }
  for (size_t k = 0; k < expected.size(); ++k) {
    const auto& have = d.conditions[k].labels;
    const auto& want = expected[k].labels;
    if (have == want) continue;
    std::vector<int64_t> map(have.size());
    for (size_t i = 0; i < have.size(); ++i) {
      auto it = std::find(want.begin(), want.end(), have[i]);
      if (it == want.end()) {
        throw DataError(
            fmt::format("'{}' has label '{}' that the model does not know (expected one of: {})",
                        d.source, have[i], fmt::join(want, ", ")));
      }
      map[i] = it - want.begin();
    }
    auto col = d.y.select(1, static_cast<int64_t>(k));
    col.copy_(torch::tensor(map, torch::kInt64).index_select(0, col.clone()));
    d.conditions[k].labels = want;
  }
}

torch::Tensor encode_conditions(const std::vector<ConditionSpec>& conditions,
                                const torch::Tensor& y) {
  TORCH_CHECK(y.dim() == 2 && y.size(1) == static_cast<int64_t>(conditions.size()),
              "condition index tensor has the wrong shape");
  std::vector<torch::Tensor> parts;
  parts.reserve(conditions.size());
  for (size_t k = 0; k < conditions.size(); ++k) {
    const int64_t classes = static_cast<int64_t>(conditions[k].labels.size());
    parts.push_back(
        torch::one_hot(y.select(1, static_cast<int64_t>(k)), classes).to(torch::kFloat32));
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
}

torch::Tensor parse_labels(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested) {
  return label_rows_tensor(io::parse_label_rows(conditions, requested),
                           static_cast<int64_t>(conditions.size()));
}

torch::Tensor label_rows_tensor(const io::LabelRows& rows, int64_t k) {
  auto out = torch::empty({static_cast<int64_t>(rows.size()), k}, torch::kInt64);
  auto acc = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int64_t j = 0; j < k; ++j)
      acc[static_cast<int64_t>(i)][j] = rows[i][static_cast<size_t>(j)];
  }
  return out;
}

std::string label_name(const std::vector<ConditionSpec>& conditions, const torch::Tensor& row) {
  auto r = row.to(torch::kInt64).contiguous();
  return io::label_row_name(
      conditions, std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
}

std::vector<std::string> label_names(const std::vector<ConditionSpec>& conditions,
                                     const torch::Tensor& rows) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < rows.size(0); ++i) names.push_back(label_name(conditions, rows[i]));
  return names;
}

}  // namespace cvae::data
