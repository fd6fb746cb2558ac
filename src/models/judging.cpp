#include "models/judging.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"

namespace cvae::models {

ClassifierReport classifier_report(ClassifierImpl& judge, const torch::Tensor& x,
                                   const torch::Tensor& y, const std::vector<std::string>& labels) {
  ClassifierReport r;
  r.labels = labels;
  r.n = x.size(0);
  if (r.n == 0) return r;
  auto pred = predict(judge, x);
  auto hit = (pred == y).to(torch::kFloat64);
  r.accuracy = hit.mean().item<double>();
  for (int64_t k = 0; k < static_cast<int64_t>(labels.size()); ++k) {
    auto mask = y == k;
    const int64_t count = mask.sum().item<int64_t>();
    r.count_per_label.push_back(count);
    r.accuracy_per_label.push_back(count ? hit.index({mask}).mean().item<double>() : std::nan(""));
  }
  return r;
}

double mean_pairwise_distance(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  if (n < 2) return std::nan("");
  auto f = x.reshape({n, -1}).to(torch::kFloat64);
  // Row blocks of at most ~16M distances keep memory flat for any N.
  const int64_t block = std::max<int64_t>(1, (int64_t{1} << 24) / n);
  double sum = 0;
  for (int64_t s = 0; s < n; s += block) {
    auto rows = f.slice(0, s, std::min(s + block, n));
    sum += torch::cdist(rows.unsqueeze(0), f.unsqueeze(0)).sum().item<double>();  // zero diagonal
  }
  return sum / static_cast<double>(n * (n - 1));
}

torch::Tensor judge_label_map(const std::vector<std::string>& model_labels,
                              const std::vector<std::string>& judge_labels) {
  std::vector<int64_t> map;
  for (const auto& name : model_labels) {
    auto it = std::find(judge_labels.begin(), judge_labels.end(), name);
    if (it == judge_labels.end()) {
      throw ConfigError(fmt::format(
          "the judge does not know the model's label '{}' (it was trained on labels {})", name,
          fmt::join(judge_labels, " ")));
    }
    map.push_back(static_cast<int64_t>(it - judge_labels.begin()));
  }
  return torch::tensor(map, torch::kInt64);
}

void measure_transfer(ClassifierImpl& judge, const torch::Tensor& map, const data::Dataset& real,
                      int64_t transfer_examples,
                      const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                                        const torch::Tensor&)>& to_judge,
                      FidelityResult& r) {
  torch::NoGradGuard no_grad;
  const int64_t l = map.size(0);
  const int64_t m = std::min(transfer_examples, real.size());
  r.transfer_count = 0;
  r.transfer_accuracy = std::nan("");
  if (m <= 0 || l < 2) return;
  auto targets = torch::arange(l, torch::kInt64).unsqueeze(1);  // (L, 1)
  int64_t correct = 0, total = 0;
  for (int64_t s = 0; s < m; s += 200) {
    const int64_t e = std::min(s + 200, m);
    auto x = real.x.slice(0, s, e);
    auto y = real.y.slice(0, s, e);
    auto pred = predict(judge, to_judge(x, y, targets)).view({e - s, l});  // judge indices
    auto want = map.unsqueeze(0).expand({e - s, l});  // the judge's index of each target
    auto other = torch::arange(l, torch::kInt64).unsqueeze(0) != y.select(1, 0).unsqueeze(1);
    correct += ((pred == want) & other).sum().item<int64_t>();
    total += other.sum().item<int64_t>();
  }
  r.transfer_count = total;
  if (total) r.transfer_accuracy = static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace cvae::models
