#include "eval/fidelity.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "serve/serve.h"

namespace cvae::eval {

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

FidelityResult measure_fidelity(models::CVAEImpl& model, ClassifierImpl& judge,
                                const std::vector<std::string>& judge_labels,
                                const data::Dataset& real, const models::LatentMixture& mixture,
                                const FidelityOptions& opt, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& conds = model.config().conditions;
  if (conds.size() != 1) {
    throw ConfigError(
        fmt::format("fidelity needs a model with one condition (got {}); the judge predicts one",
                    conds.size()));
  }
  const auto& labels = conds[0].labels;
  const int64_t l = static_cast<int64_t>(labels.size());
  auto map = judge_label_map(labels, judge_labels);  // model index -> judge index
  FidelityResult r;
  r.labels = labels;
  r.sampler = mixture.defined() ? "gmm" : "prior";

  // The ceiling: the judge on real examples of the split.
  auto real_y = real.y.select(1, 0);
  auto real_report = classifier_report(judge, real.x, map.index_select(0, real_y), judge_labels);
  r.judge_real_accuracy = real_report.accuracy;

  double hits = 0, ratio_sum = 0;
  int64_t ratio_count = 0;
  for (int64_t k = 0; k < l; ++k) {
    auto row = torch::full({1, 1}, k, torch::kInt64);
    std::vector<torch::Tensor> parts;  // in chunks, so decoder activations stay small
    for (int64_t done = 0; done < opt.samples_per_label; done += 1000) {
      const int64_t m = std::min<int64_t>(1000, opt.samples_per_label - done);
      parts.push_back(
          serve::sample(model, row, m, opt.temperature, gen, false, mixture, opt.candidates));
    }
    auto x = torch::cat(parts, 0);
    auto pred = predict(judge, x);
    const double acc = (pred == map[k]).to(torch::kFloat64).mean().item<double>();
    r.cond_accuracy_per_label.push_back(acc);
    hits += acc * static_cast<double>(opt.samples_per_label);
    // The judge's accuracy on this label's real examples, from the report above.
    r.judge_real_accuracy_per_label.push_back(
        real_report.accuracy_per_label[static_cast<size_t>(map[k].item<int64_t>())]);
    const double ds = mean_pairwise_distance(x);
    // At most 10,000 real examples per label: the mean over pairs is estimated well long before.
    auto real_k = real.x.index({real_y == k});
    const double dr =
        mean_pairwise_distance(real_k.slice(0, 0, std::min<int64_t>(10000, real_k.size(0))));
    r.sample_distance_per_label.push_back(ds);
    r.real_distance_per_label.push_back(dr);
    const double ratio = ds / dr;
    r.diversity_ratio_per_label.push_back(ratio);
    if (std::isfinite(ratio)) ratio_sum += ratio, ++ratio_count;
  }
  r.samples = opt.samples_per_label * l;
  r.cond_accuracy = hits / static_cast<double>(r.samples);
  r.diversity_ratio = ratio_count ? ratio_sum / static_cast<double>(ratio_count) : std::nan("");

  // Transfer: each example to every other label.
  measure_transfer(
      judge, map, real, opt.transfer_examples,
      [&](const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& targets) {
        return serve::transfer(model, x, y, targets, mixture).flatten(0, 1);  // (B*L, S...)
      },
      r);
  return r;
}

}  // namespace cvae::eval
