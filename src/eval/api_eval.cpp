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
#include "data/torch_threads.h"
#include "eval/classifier.h"
#include "eval/metrics.h"
#include "modalities/modality.h"
#include "models/model_file.h"
#include "models/sampling.h"

namespace cvae {

namespace {

void check_eval_request(const EvalRequest& req) {
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
}

// The examples of the request's split (val: the validation part training held
// out), at most --limit; applied to the data as the model reads it and as a judge does.
data::Dataset pick_rows(data::Dataset all, const EvalRequest& req, const TrainConfig& train) {
  if (req.split != "test") {
    auto [train_part, val] = data::split_validation(all, train.val_fraction, train.seed);
    all = req.split == "val" ? val : train_part;
    if (all.size() == 0)
      throw ConfigError("the model was trained without a validation split (--val-fraction 0)");
  }
  if (req.limit > 0 && req.limit < all.size())
    all = all.subset(torch::arange(req.limit, torch::kInt64));
  return all;
}

// The judge of eval --judge, checked against the model before the long
// likelihood evaluation, with the split as it reads it when its modality asks.
struct Judge {
  eval::Classifier net{nullptr};
  eval::ClassifierFile info;
  data::Dataset reads;  // empty unless Modality::judge_reads_own_data
};

Judge load_judge(const EvalRequest& req, const models::ModelFile& model,
                 const modalities::Modality& m, const std::string& split) {
  Judge j;
  j.net = eval::load_classifier(req.judge, &j.info);
  const auto& jc = j.info.config;
  const std::string judge_reads =
      models::model_kind_of(jc.modality, jc.input_shape, jc.vocabulary).modality();
  if (judge_reads != m.modality()) {
    throw ConfigError(fmt::format("the judge '{}' reads {} (the model reads {})", req.judge,
                                  judge_reads, m.modality()));
  }
  m.check_judge(model.model, jc, req.judge);
  if (m.judge_reads_own_data()) {
    j.reads = pick_rows(
        modalities::load_dataset_for(req.data, split, judge_reads, jc.input_shape, jc.vocabulary),
        req, model.train);
    data::check_compatible(j.reads, jc.input_shape, {jc.condition});
  }
  return j;
}

// -ELBO, its parts and the IWAE bound over d, in batches (fills r's likelihood
// figures; returns the total -log p over d, from the IWAE bound when iw_k > 0).
double likelihood_pass(models::CVAEImpl& model, const data::Dataset& d,
                       const std::vector<ConditionSpec>& conditions, int64_t batch_size,
                       int64_t iw_k, at::Generator& gen, EvalResult& r) {
  torch::NoGradGuard no_grad;
  const int64_t z_dim = model.latent();
  double recon = 0, kl = 0, iw = 0;
  auto kl_dim = torch::zeros({z_dim}, torch::kFloat64);
  std::vector<torch::Tensor> mus;
  // Decoded rows per IWAE chunk: about 64M likelihood parameters at a time
  // (iwae_nll decodes at least one batch of iw_batch rows at once).
  const int64_t iw_rows = std::clamp<int64_t>(
      (int64_t{1} << 26) / (model.likelihood().params_per_feature() * model.features()), 1, 16384);
  const int64_t iw_batch = std::clamp<int64_t>(iw_rows, 1, std::min<int64_t>(batch_size, 128));
  core::Progress progress("eval", d.size(), core::stderr_is_terminal(), false);
  for (int64_t start = 0; start < d.size(); start += batch_size) {
    const int64_t end = std::min(start + batch_size, d.size());
    auto x = d.x.slice(0, start, end);
    auto c = data::encode_conditions(conditions, d.y.slice(0, start, end));
    auto eps = torch::randn({end - start, z_dim}, gen);
    auto terms = models::elbo_loss(model, x, c, eps, 1.0);
    recon += terms.loss_recon.sum().item<double>();
    kl += terms.loss_kl.sum().item<double>();
    kl_dim += terms.kl_per_dim.sum(0).to(torch::kFloat64);
    mus.push_back(terms.mu);
    if (iw_k > 0) {
      for (int64_t s = start; s < end; s += iw_batch) {
        const int64_t e = std::min(s + iw_batch, end);
        iw += eval::iwae_nll(model, x.slice(0, s - start, e - start),
                             c.slice(0, s - start, e - start), iw_k, gen, iw_rows)
                  .sum()
                  .item<double>();
      }
    }
    progress.update(end, fmt::format("-elbo {:.2f}", (recon + kl) / static_cast<double>(end)));
  }
  progress.finish();
  r.n = d.size();
  const double n = static_cast<double>(r.n);
  r.recon = recon / n;
  r.kl = kl / n;
  r.neg_elbo = r.recon + r.kl;
  r.iw_samples = iw_k;
  r.iw_nll = iw_k > 0 ? iw / n : std::nan("");
  r.active_units = eval::active_units(torch::cat(mus, 0));
  kl_dim /= n;
  for (int64_t i = 0; i < z_dim; ++i) r.kl_per_dim.push_back(kl_dim[i].item<double>());
  return iw_k > 0 ? iw : recon + kl;
}

}  // namespace

EvalResult evaluate(const EvalRequest& req) {
  modalities::register_builtins();
  check_eval_request(req);
  const auto t0 = std::chrono::steady_clock::now();
  data::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  const modalities::Modality& m = modalities::modality_of(info.model);
  const auto defaults = m.defaults();
  const std::string split = req.split == "test" ? "test" : "train";
  data::Dataset d = modalities::load_dataset_for(req.data, split, m.modality(),
                                                 info.model.input_shape, info.model.vocabulary);
  data::check_compatible(d, info.model.input_shape, info.model.conditions);
  d = pick_rows(d, req, info.train);
  model->likelihood().check_support(d.x, d.source);
  // Fail on a bad judge or sampler before the long likelihood evaluation.
  const int64_t iw_k = req.iw_samples >= 0 ? req.iw_samples : defaults.iw_samples;
  const core::Sampling sampling = core::resolve_sampling(defaults.sampling, req.temperature,
                                                         req.latent_temperature, req.decoding);
  Judge judge;
  models::LatentMixture mixture;
  if (!req.judge.empty()) {
    judge = load_judge(req, info, m, split);
    mixture = models::choose_sampler(req.sampler, info);
  }

  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  EvalResult r;
  r.modality = m.modality();
  const double total_nll =
      likelihood_pass(*model, d, info.model.conditions, req.batch_size, iw_k, gen, r);
  m.add_metrics({r, d, total_nll, *model, info, req});
  torch::NoGradGuard no_grad;
  if (model->has_classifier()) {
    auto pred = models::predict_with(*model, d.x);
    r.classifier_accuracy = (pred == d.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
  }
  if (judge.net) {
    r.fidelity = m.measure_fidelity(
        {*model, info, *judge.net, judge.info.config, d, judge.reads, req, mixture, sampling, gen});
    r.fidelity.latent_temperature = sampling.latent_temperature;
    r.fidelity.candidates = sampling.decode.rerank;
    r.has_fidelity = true;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string fidelity_report(const EvalResult& r, const EvalRequest& req) {
  if (!r.has_fidelity || r.modality.empty()) return {};
  return modalities::modality(r.modality).fidelity_report(r.fidelity, req);
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
  for (const auto& [name, value] : r.figures) j[name] = num(value);
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
