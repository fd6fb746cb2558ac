// cvae::evaluate (include/cvae/api.h): -ELBO, IWAE bound, KL per dimension, active units.
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/runtime.h"
#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "eval/classifier.h"
#include "eval/metrics.h"
#include "modalities/modality.h"
#include "models/model_file.h"
#include "models/sampling.h"

namespace cvae {

EvalResult evaluate(const EvalRequest& req) {
  if (req.split != "test" && req.split != "train" && req.split != "val") {
    throw ConfigError(
        fmt::format("unknown --split (got '{}' vs expected test, train or val)", req.split));
  }
  if (req.iw_samples < -1 || req.iw_samples > 1000000) {
    throw ConfigError(fmt::format(
        "--iw-samples out of range (got {} vs expected 0..1000000, or -1 = auto)", req.iw_samples));
  }
  if (req.batch_size < 1 || req.batch_size > 65536) {
    throw ConfigError(
        fmt::format("--batch-size out of range (got {} vs expected 1..65536)", req.batch_size));
  }
  if (req.limit < 0)
    throw ConfigError(fmt::format("--limit out of range (got {} vs expected >= 0)", req.limit));
  if (req.samples_per_label < 2 || req.samples_per_label > 10000) {
    throw ConfigError(fmt::format("--samples-per-label out of range (got {} vs expected 2..10000)",
                                  req.samples_per_label));
  }
  if (req.transfer_examples < 0) {
    throw ConfigError(fmt::format("--transfer-examples out of range (got {} vs expected >= 0)",
                                  req.transfer_examples));
  }
  const auto t0 = std::chrono::steady_clock::now();
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  const modalities::Modality& m = modalities::modality_of(info.model);
  const auto defaults = m.defaults();
  const std::string split = req.split == "test" ? "test" : "train";
  data::Dataset d = modalities::load_dataset_for(req.data, split, m.modality(),
                                                 info.model.input_shape, info.model.vocabulary);
  // The examples of the split (val: the validation part training held out), at
  // most --limit; applied to the data as the model reads it and as a text judge does.
  auto pick_rows = [&](data::Dataset all) {
    if (req.split != "test") {
      auto [train, val] = data::split_validation(all, info.train.val_fraction, info.train.seed);
      all = req.split == "val" ? val : train;
      if (all.size() == 0)
        throw ConfigError("the model was trained without a validation split (--val-fraction 0)");
    }
    if (req.limit > 0 && req.limit < all.size())
      all = all.subset(torch::arange(req.limit, torch::kInt64));
    return all;
  };
  data::check_compatible(d, info.model.input_shape, info.model.conditions);
  d = pick_rows(d);
  model->likelihood().check_support(d.x, d.source);
  // Fail on a bad judge or sampler before the long likelihood evaluation.
  eval::Classifier judge{nullptr};
  eval::ClassifierFile judge_info;
  models::LatentMixture mixture;
  const int64_t iw_k = req.iw_samples >= 0 ? req.iw_samples : defaults.iw_samples;
  data::Dataset for_judge;  // the split as the judge reads it, when its modality asks
  const core::Sampling sampling = core::resolve_sampling(defaults.sampling, req.temperature,
                                                         req.latent_temperature, req.decoding);
  if (!req.judge.empty()) {
    judge = eval::load_classifier(req.judge, &judge_info);
    const auto& jc = judge_info.config;
    const std::string judge_reads =
        models::model_kind_of(jc.modality, jc.input_shape, jc.vocabulary).modality();
    if (judge_reads != m.modality()) {
      throw ConfigError(fmt::format("the judge '{}' reads {} (the model reads {})", req.judge,
                                    judge_reads, m.modality()));
    }
    m.check_judge(info.model, jc, req.judge);
    if (m.judge_reads_own_data()) {
      for_judge = pick_rows(modalities::load_dataset_for(req.data, split, judge_reads,
                                                         jc.input_shape, jc.vocabulary));
      data::check_compatible(for_judge, jc.input_shape, {jc.condition});
    }
    mixture = models::choose_sampler(req.sampler, info);
  }

  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  const int64_t z_dim = model->latent();
  double recon = 0, kl = 0, iw = 0;
  auto kl_dim = torch::zeros({z_dim}, torch::kFloat64);
  std::vector<torch::Tensor> mus;
  // Decoded rows per IWAE chunk: about 64M likelihood parameters at a time
  // (iwae_nll decodes at least one batch of iw_batch rows at once).
  const int64_t iw_rows = std::clamp<int64_t>(
      (int64_t{1} << 26) / (model->likelihood().params_per_feature() * model->features()), 1,
      16384);
  const int64_t iw_batch = std::clamp<int64_t>(iw_rows, 1, std::min<int64_t>(req.batch_size, 128));
  core::Progress progress("eval", d.size(), core::stderr_is_terminal(), false);
  for (int64_t start = 0; start < d.size(); start += req.batch_size) {
    const int64_t end = std::min(start + req.batch_size, d.size());
    auto x = d.x.slice(0, start, end);
    auto c = data::encode_conditions(info.model.conditions, d.y.slice(0, start, end));
    auto eps = torch::randn({end - start, z_dim}, gen);
    auto terms = models::elbo_loss(*model, x, c, eps, 1.0);
    recon += terms.loss_recon.sum().item<double>();
    kl += terms.loss_kl.sum().item<double>();
    kl_dim += terms.kl_per_dim.sum(0).to(torch::kFloat64);
    mus.push_back(terms.mu);
    if (iw_k > 0) {
      for (int64_t s = start; s < end; s += iw_batch) {
        const int64_t e = std::min(s + iw_batch, end);
        iw += eval::iwae_nll(*model, x.slice(0, s - start, e - start),
                             c.slice(0, s - start, e - start), iw_k, gen, iw_rows)
                  .sum()
                  .item<double>();
      }
    }
    progress.update(end, fmt::format("-elbo {:.2f}", (recon + kl) / static_cast<double>(end)));
  }
  progress.finish();
  EvalResult r;
  r.n = d.size();
  const double n = static_cast<double>(r.n);
  r.recon = recon / n;
  r.kl = kl / n;
  r.neg_elbo = r.recon + r.kl;
  r.iw_samples = iw_k;
  r.iw_nll = iw_k > 0 ? iw / n : std::nan("");
  r.active_units = eval::active_units(torch::cat(mus, 0));
  r.modality = m.modality();
  m.add_metrics(r, d, iw_k > 0 ? iw : recon + kl);
  kl_dim /= n;
  for (int64_t i = 0; i < z_dim; ++i) r.kl_per_dim.push_back(kl_dim[i].item<double>());
  if (model->has_classifier()) {
    auto pred = models::predict_with(*model, d.x);
    r.classifier_accuracy = (pred == d.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
  }
  if (judge) {
    r.fidelity = m.measure_fidelity(
        {*model, info, *judge, judge_info.config, d, for_judge, req, mixture, sampling, gen});
    r.has_fidelity = true;
  }
  if (r.has_fidelity) {
    r.fidelity.latent_temperature = sampling.latent_temperature;
    r.fidelity.candidates = sampling.decode.rerank;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string eval_to_json(const EvalResult& r, const EvalRequest& req) {
  auto num = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json j = {{"model", req.model},
                      {"data", req.data.path},
                      {"split", req.split},
                      {"n", r.n},
                      {"neg_elbo", num(r.neg_elbo)},
                      {"recon", num(r.recon)},
                      {"kl", num(r.kl)},
                      {"iw_nll", num(r.iw_nll)},
                      {"iw_samples", r.iw_samples},
                      {"active_units", r.active_units},
                      {"kl_per_dim", r.kl_per_dim},
                      {"seconds", r.seconds},
                      {"units", "nats per example"}};
  if (std::isfinite(r.perplexity)) {
    j["tokens"] = r.tokens;
    j["perplexity"] = r.perplexity;
  }
  if (std::isfinite(r.classifier_accuracy)) {
    j["classifier_accuracy"] = r.classifier_accuracy;
    j["classification_error"] = 1.0 - r.classifier_accuracy;
  }
  if (r.has_fidelity) {
    const auto& f = r.fidelity;
    auto nums = [&](const std::vector<double>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (double x : v) a.push_back(num(x));
      return a;
    };
    j["judge"] = req.judge;
    j["sampler"] = f.sampler;
    j["temperature"] = f.latent_temperature;
    j["latent_temperature"] = f.latent_temperature;
    j["candidates"] = f.candidates;
    j["samples_per_label"] = req.samples_per_label;
    j["labels"] = f.labels;
    j["cond_accuracy"] = num(f.cond_accuracy);
    j["cond_accuracy_per_label"] = nums(f.cond_accuracy_per_label);
    j["diversity_ratio"] = num(f.diversity_ratio);
    j["diversity_ratio_per_label"] = nums(f.diversity_ratio_per_label);
    j["sample_distance_per_label"] = nums(f.sample_distance_per_label);
    j["real_distance_per_label"] = nums(f.real_distance_per_label);
    j["judge_real_accuracy"] = num(f.judge_real_accuracy);
    j["judge_real_accuracy_per_label"] = nums(f.judge_real_accuracy_per_label);
    j["transfer_accuracy"] = num(f.transfer_accuracy);
    j["transfer_count"] = f.transfer_count;
    // The modality's own fields (text: distinct-n, copies, the softmax temperature).
    if (!r.modality.empty()) modalities::modality(r.modality).fidelity_json(f, req, j);
  }
  return j.dump(2) + "\n";
}

}  // namespace cvae
