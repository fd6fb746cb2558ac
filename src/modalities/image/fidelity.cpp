#include "modalities/image/fidelity.h"

#include <cmath>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "modalities/image/image_sampling.h"
#include "models/judging.h"

namespace cvae::modalities::image {

using models::classifier_report;
using models::judge_label_map;
using models::mean_pairwise_distance;
using models::measure_transfer;
using models::predict;

FidelityResult measure_fidelity(models::CVAEImpl& model, models::ClassifierImpl& judge,
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
      parts.push_back(sample(model, row, m, opt.temperature, gen, false, mixture, opt.candidates));
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
        return transfer(model, x, y, targets, mixture).flatten(0, 1);  // (B*L, S...)
      },
      r);
  return r;
}

}  // namespace cvae::modalities::image
