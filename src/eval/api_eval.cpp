// cvae::evaluate (include/cvae/api.h): -ELBO, IWAE bound, KL per dimension, active units.
#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "core/runtime.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "data/text.h"
#include "eval/classifier.h"
#include "eval/fidelity.h"
#include "eval/metrics.h"
#include "eval/text_fidelity.h"
#include "models/model_file.h"
#include "serve/serve.h"
#include "serve/text_decode.h"

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
  data::Dataset d = data::load_dataset(
      data::data_config_for_model(req.data, info.model.input_shape, info.model.vocabulary),
      req.split == "test" ? "test" : "train");
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
  const bool text = model->is_text();
  const int64_t iw_k = req.iw_samples >= 0 ? req.iw_samples : text ? 100 : 1000;
  data::Dataset for_judge;  // text: the split encoded for the judge
  const serve::Sampling sampling =
      serve::resolve_sampling(text, req.temperature, req.latent_temperature, req.decoding);
  if (!req.judge.empty()) {
    judge = eval::load_classifier(req.judge, &judge_info);
    if (text != !judge_info.config.vocabulary.empty()) {
      throw ConfigError(fmt::format("the judge '{}' reads {} (the model reads {})", req.judge,
                                    judge_info.config.vocabulary.empty() ? "images" : "text",
                                    text ? "text" : "images"));
    }
    if (text) {
      for_judge =
          data::load_dataset(data::data_config_for_model(req.data, judge_info.config.input_shape,
                                                         judge_info.config.vocabulary),
                             req.split == "test" ? "test" : "train");
      for_judge = pick_rows(for_judge);
      data::check_compatible(for_judge, judge_info.config.input_shape,
                             {judge_info.config.condition});
    } else if (judge_info.config.input_shape != info.model.input_shape) {
      throw ConfigError(fmt::format(
          "the judge '{}' takes examples of shape {} (the model's are {})", req.judge,
          fmt::join(judge_info.config.input_shape, "x"), fmt::join(info.model.input_shape, "x")));
    }
    mixture = serve::choose_sampler(req.sampler, info);
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
  if (text) {
    r.tokens = (d.x != data::Vocabulary::kPad).sum().item<int64_t>();
    const double nll = iw_k > 0 ? iw : recon + kl;
    r.perplexity = std::exp(nll / static_cast<double>(std::max<int64_t>(1, r.tokens)));
  }
  kl_dim /= n;
  for (int64_t i = 0; i < z_dim; ++i) r.kl_per_dim.push_back(kl_dim[i].item<double>());
  if (model->has_classifier()) {
    auto pred = models::predict_with(*model, d.x);
    r.classifier_accuracy = (pred == d.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
  }
  if (judge && text) {
    eval::TextFidelityOptions opt;
    opt.samples_per_label = req.samples_per_label;
    opt.latent_temperature = sampling.latent_temperature;
    opt.decode = sampling.decode;
    opt.transfer_examples = req.transfer_examples;
    r.fidelity = eval::measure_text_fidelity(*model, *judge, d, for_judge, info.train_sequences,
                                             mixture, opt, gen);
    r.fidelity.softmax_temperature = sampling.decode.temperature;
    r.has_fidelity = true;
  } else if (judge) {
    eval::FidelityOptions opt;
    opt.samples_per_label = req.samples_per_label;
    opt.temperature = sampling.latent_temperature;
    opt.candidates = sampling.decode.rerank;
    opt.transfer_examples = req.transfer_examples;
    r.fidelity = eval::measure_fidelity(*model, *judge, judge_info.config.condition.labels, d,
                                        mixture, opt, gen);
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
    j["temperature"] = f.text ? f.softmax_temperature : f.latent_temperature;
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
    if (f.text) {
      j["decode"] = req.decoding.method;
      j["distinct_1"] = f.distinct_1;
      j["distinct_2"] = f.distinct_2;
      j["real_distinct_1"] = f.real_distinct_1;
      j["real_distinct_2"] = f.real_distinct_2;
      j["copied_share"] = f.copied_share;
      j["examples_per_label"] = f.examples_per_label;
      j.erase("sample_distance_per_label");
      j.erase("real_distance_per_label");
      j["distinct_2_per_label"] = nums(f.sample_distance_per_label);
      j["real_distinct_2_per_label"] = nums(f.real_distance_per_label);
    }
  }
  return j.dump(2) + "\n";
}

}  // namespace cvae
