#include "modalities/text/fidelity.h"

#include <cmath>
#include <unordered_set>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "modalities/text/text_data.h"
#include "modalities/text/tokens.h"
#include "models/judging.h"
#include "models/sampling.h"

namespace cvae::modalities::text {

using models::classifier_report;
using models::judge_label_map;
using models::measure_transfer;
using models::predict;
namespace {

constexpr int64_t kPad = Vocabulary::kPad, kEos = Vocabulary::kEos;

// Model token ids -> the judge's token ids, through the texts.
torch::Tensor for_judge(const models::ClassifierConfig& judge,
                        const std::vector<std::string>& vocabulary, const torch::Tensor& ids) {
  return encode_texts(judge.vocabulary, decode_texts(vocabulary, ids), judge.input_shape.at(0));
}

}  // namespace

std::pair<int64_t, int64_t> count_ngrams(const torch::Tensor& ids, int n) {
  auto c = ids.to(torch::kInt64).contiguous();
  const int64_t rows = c.size(0), t = c.size(1);
  const int64_t* p = c.data_ptr<int64_t>();
  std::unordered_set<std::string> seen;
  int64_t total = 0;
  for (int64_t i = 0; i < rows; ++i) {
    int64_t len = 0;
    while (len < t && p[i * t + len] != kEos && p[i * t + len] != kPad) ++len;
    for (int64_t s = 0; s + n <= len; ++s) {
      seen.insert(std::string(reinterpret_cast<const char*>(p + i * t + s),
                              static_cast<size_t>(n) * sizeof(int64_t)));
      ++total;
    }
  }
  return {static_cast<int64_t>(seen.size()), total};
}

FidelityResult measure_text_fidelity(models::CVAEImpl& model, models::ClassifierImpl& judge,
                                     const data::Dataset& real, const data::Dataset& real_for_judge,
                                     const std::string& train_sequences,
                                     const models::LatentMixture& mixture,
                                     const TextFidelityOptions& opt, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& cfg = model.config();
  const auto& conds = cfg.conditions;
  if (conds.size() != 1) {
    throw ConfigError(
        fmt::format("fidelity needs a model with one condition (got {}); the judge predicts one",
                    conds.size()));
  }
  const auto& labels = conds[0].labels;
  const auto& judge_labels = judge.config().condition.labels;
  const int64_t l = static_cast<int64_t>(labels.size());
  auto map = judge_label_map(labels, judge_labels);  // model index -> judge index
  FidelityResult r;
  r.text = true;
  r.labels = labels;
  r.sampler = mixture.defined() ? "gmm" : "prior";

  // The ceiling: the judge on the real texts of the split.
  auto judge_y = real_for_judge.y.select(1, 0);
  auto real_report = classifier_report(judge, real_for_judge.x, judge_y, judge_labels);
  r.judge_real_accuracy = real_report.accuracy;

  auto real_y = real.y.select(1, 0);
  double hits = 0;
  int64_t copied = 0;
  int64_t d1 = 0, t1 = 0, d2 = 0, t2 = 0, rd1 = 0, rt1 = 0, rd2 = 0, rt2 = 0;
  for (int64_t k = 0; k < l; ++k) {
    auto row = torch::full({1, 1}, k, torch::kInt64);
    auto ids = sample_text(model, row, opt.samples_per_label, opt.latent_temperature, mixture,
                           opt.decode, gen);  // (n, T)
    auto pred = predict(judge, for_judge(judge.config(), cfg.vocabulary, ids));
    const double acc = (pred == map[k]).to(torch::kFloat64).mean().item<double>();
    r.cond_accuracy_per_label.push_back(acc);
    hits += acc * static_cast<double>(opt.samples_per_label);
    r.judge_real_accuracy_per_label.push_back(
        real_report.accuracy_per_label[static_cast<size_t>(map[k].item<int64_t>())]);
    for (bool in : sequences_in(train_sequences, ids)) copied += in ? 1 : 0;
    auto texts = decode_texts(cfg.vocabulary, ids.slice(0, 0, opt.examples_shown));
    r.examples_per_label.push_back(texts);

    // Distinct-n on equal numbers of generated and real texts of this label.
    auto real_k = real.x.index({real_y == k});
    const int64_t m = std::min(opt.samples_per_label, real_k.size(0));
    double ratio = std::nan("");
    if (m > 0) {
      auto g1 = count_ngrams(ids.slice(0, 0, m), 1), g2 = count_ngrams(ids.slice(0, 0, m), 2);
      auto q1 = count_ngrams(real_k.slice(0, 0, m), 1), q2 = count_ngrams(real_k.slice(0, 0, m), 2);
      d1 += g1.first, t1 += g1.second, d2 += g2.first, t2 += g2.second;
      rd1 += q1.first, rt1 += q1.second, rd2 += q2.first, rt2 += q2.second;
      const double gd = g2.second ? double(g2.first) / double(g2.second) : 0.0;
      const double rd = q2.second ? double(q2.first) / double(q2.second) : std::nan("");
      ratio = gd / rd;
      r.sample_distance_per_label.push_back(gd);  // text: distinct-2 per label
      r.real_distance_per_label.push_back(rd);
    } else {
      r.sample_distance_per_label.push_back(std::nan(""));
      r.real_distance_per_label.push_back(std::nan(""));
    }
    r.diversity_ratio_per_label.push_back(ratio);
  }
  auto share = [](int64_t a, int64_t b) { return b ? double(a) / double(b) : 0.0; };
  r.samples = opt.samples_per_label * l;
  r.cond_accuracy = hits / static_cast<double>(r.samples);
  r.copied_share = share(copied, r.samples);
  r.distinct_1 = share(d1, t1);
  r.distinct_2 = share(d2, t2);
  r.real_distinct_1 = share(rd1, rt1);
  r.real_distinct_2 = share(rd2, rt2);
  r.diversity_ratio = r.real_distinct_2 > 0 ? r.distinct_2 / r.real_distinct_2 : std::nan("");

  // Transfer: each real text to every other label.
  measure_transfer(
      judge, map, real, opt.transfer_examples,
      [&](const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& targets) {
        auto z = models::transfer_latent(model, x, y, targets, mixture).first;  // (B*L, Z)
        auto dec = opt.decode;
        if (dec.method != "sample") dec.rerank = 1;  // z is fixed: the candidates would agree
        auto ids = decode_text_reranked(
            model, [&] { return z; }, targets.repeat({x.size(0), 1}), dec, gen);
        return for_judge(judge.config(), cfg.vocabulary, ids);
      },
      r);
  return r;
}

}  // namespace cvae::modalities::text
