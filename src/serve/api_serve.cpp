// cvae::generate, transfer, interpolate and describe_model (include/cvae/api.h).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/config_json.h"
#include "core/container.h"
#include "core/runtime.h"
#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "cvae/version.h"
#include "data/dataset.h"
#include "data/torch_threads.h"
#include "lite/generate_output.h"
#include "modalities/modality.h"
#include "models/backbone.h"
#include "models/model_file.h"
#include "models/sampling.h"

namespace fs = std::filesystem;

namespace cvae {

const char* version() { return CVAE_VERSION; }

std::vector<std::string> modality_names() { return modalities::modality_names(); }

std::vector<std::string> arch_names() {
  modalities::register_builtins();
  return models::backbone_names();
}

GenerateResult generate(const GenerateRequest& req) {
  modalities::register_builtins();
  lite::check_generate_request(req);
  data::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  const modalities::Modality& m = modalities::modality_of(info.model);
  const auto defaults = m.defaults();
  const std::string format = req.format == "auto" ? defaults.formats.at(0) : req.format;
  if (std::find(defaults.formats.begin(), defaults.formats.end(), format) ==
      defaults.formats.end()) {
    throw ConfigError(fmt::format("--format {} does not fit this {} model (expected {} or auto)",
                                  format, m.modality(), fmt::join(defaults.formats, ", ")));
  }
  const core::Sampling sampling = core::resolve_sampling(defaults.sampling, req.temperature,
                                                         req.latent_temperature, req.decoding);
  const auto& conds = info.model.conditions;
  const io::LabelRows label_rows = io::parse_label_rows(conds, req.labels);
  auto rows = data::label_rows_tensor(label_rows, static_cast<int64_t>(conds.size()));
  lite::check_sample_count(rows.size(0), req.n);
  auto mixture = models::choose_sampler(req.sampler, info);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  const auto names = data::label_names(conds, rows);
  GenerateResult res =
      m.generate({req, *model, info, label_rows, rows, names, sampling, mixture, format, gen});
  res.labels = names;
  return res;
}

RecommendResult recommend(const RecommendRequest& req) {
  modalities::register_builtins();
  if (req.model.empty()) throw ConfigError("no model given (expected --model FILE)");
  if (req.history.empty()) throw ConfigError("no history given (expected --history CSV)");
  if (req.top < 1 || req.top > 100000) {
    throw ConfigError(fmt::format("--top out of range (got {} vs expected 1..100000)", req.top));
  }
  data::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  return modalities::modality_of(info.model).recommend(req, *model, info);
}

TransferResult transfer(const TransferRequest& req) {
  modalities::register_builtins();
  data::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  return modalities::modality_of(info.model).transfer(req, *model, info);
}

InterpolateResult interpolate(const InterpolateRequest& req) {
  modalities::register_builtins();
  if (req.steps < 2 || req.steps > 1000) {
    throw ConfigError(fmt::format("--steps out of range (got {} vs expected 2..1000)", req.steps));
  }
  if (!(req.temperature >= 0 && req.temperature <= 100)) {
    throw ConfigError(
        fmt::format("--temperature out of range (got {} vs expected 0..100)", req.temperature));
  }
  if (req.rows < 1 || req.rows > 1000) {
    throw ConfigError(fmt::format("--rows out of range (got {} vs expected 1..1000)", req.rows));
  }
  data::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  return modalities::modality_of(info.model).interpolate(req, *model, info);
}

std::string describe_model(const std::string& path, bool as_json) {
  modalities::register_builtins();
  models::ModelFile f = models::load_model_file(path);
  const auto bytes = fs::file_size(path);
  const modalities::Modality& m = modalities::modality_of(f.model);
  const bool inferred = f.model.modality.empty();  // written before the modality was stored
  models::CVAE model(f.model);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  nlohmann::json j = {{"file", path},
                      {"bytes", bytes},
                      {"format_version", f.format_version},
                      {"written_by", f.header.value("cvae_version", std::string("?"))},
                      {"parameters", params},
                      {"model", f.model},
                      {"train", f.train},
                      {"state", f.header.at("state")},
                      {"resumable", f.resume.has_value()},
                      {"latent_mixture", !f.latent_mixture.empty()}};
  j["model"]["modality"] = m.modality();
  j["modality_inferred"] = inferred;
  m.describe_json(j["model"]);
  if (as_json) return j.dump(2) + "\n";
  std::string out;
  out += fmt::format("file            {} ({} bytes, format version {}, written by cvae {})\n", path,
                     bytes, f.format_version, j["written_by"].get<std::string>());
  out += fmt::format(
      "modality        {}{}\n", m.modality(),
      inferred ? " (inferred: the file was written before modalities were stored)" : "");
  out += fmt::format(
      "model           {} encoder/decoder{}, {} likelihood, {} prior, hidden {}, latent {}, {} "
      "parameters\n",
      model->config().arch, models::backbone(model->config().arch).describe(model->config()),
      model->config().likelihood, f.model.prior, fmt::join(f.model.hidden, ","), f.model.latent,
      params);
  out += fmt::format("input shape     {}\n", fmt::join(f.model.input_shape, "x"));
  if (f.model.classifier) {
    out += fmt::format("semi-supervised {} labelled training examples; the model holds q(y|x)\n",
                       f.train.labelled);
  }
  for (const auto& c : f.model.conditions) {
    out += fmt::format("condition       {} ({}, {} labels): {}\n", c.name, c.kind, c.labels.size(),
                       fmt::join(c.labels, " "));
  }
  out += fmt::format(
      "training        {} of {} epochs, {} steps, batch {}, lr {}, beta {}, kl warm-up {} epochs, "
      "kl cycles {}, free bits {}, seed {}\n",
      f.state.epochs_done, f.train.epochs, f.state.step, f.train.batch_size, f.train.lr,
      f.train.beta, f.train.kl_warmup, f.train.kl_cycles, f.train.free_bits, f.train.seed);
  out += fmt::format(
      "best val -ELBO  {} (epoch {})\n",
      std::isfinite(f.state.best_val) ? fmt::format("{:.3f} nats", f.state.best_val) : "n/a",
      f.state.best_epoch);
  out += fmt::format("data            {} ({} train, {} validation)\n", f.state.data_source,
                     f.state.train_examples, f.state.val_examples);
  if (f.latent_mixture.empty()) {
    out += "sampler         prior only (no latent mixture)\n";
  } else {
    auto mix = models::mixture_from_bytes(f.latent_mixture, fmt::format("model file '{}'", path));
    out += fmt::format("sampler         latent mixture, {} components for each of {} label(s)\n",
                       mix.components(), mix.rows.size(0));
  }
  out += fmt::format("resumable       {}\n", f.resume ? "yes" : "no");
  return out;
}

}  // namespace cvae
