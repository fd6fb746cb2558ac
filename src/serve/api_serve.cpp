// cvae::generate, transfer, interpolate and describe_model (include/cvae/api.h).
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/config_json.h"
#include "core/container.h"
#include "core/runtime.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "cvae/version.h"
#include "data/dataset.h"
#include "models/model_file.h"
#include "serve/serve.h"

namespace fs = std::filesystem;

namespace cvae {
namespace {

void check_temperature(double t) {
  if (!(t >= 0 && t <= 100)) {
    throw ConfigError(fmt::format("--temperature out of range (got {} vs expected 0..100)", t));
  }
}

void check_image_model(const ModelConfig& cfg, const std::string& what) {
  if (cfg.input_shape.size() != 3) {
    throw ConfigError(fmt::format("{} needs an image model (input shape C x H x W; got {})", what,
                                  fmt::join(cfg.input_shape, "x")));
  }
}

// The default --out names a PNG; as an IDX prefix drop the extension.
std::string idx_prefix(std::string out) {
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".png") == 0) out.resize(out.size() - 4);
  return out;
}

}  // namespace

const char* version() { return CVAE_VERSION; }

GenerateResult generate(const GenerateRequest& req) {
  if (req.n < 1 || req.n > 100000) {
    throw ConfigError(fmt::format("-n out of range (got {} vs expected 1..100000)", req.n));
  }
  check_temperature(req.temperature);
  if (req.format != "png" && req.format != "idx") {
    throw ConfigError(
        fmt::format("unknown --format (got '{}' vs expected png or idx)", req.format));
  }
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  const auto& conds = info.model.conditions;
  auto rows = data::parse_labels(conds, req.labels);
  const int64_t m = rows.size(0);
  if (m * req.n > 1000000) {
    throw ConfigError(
        fmt::format("too many samples (got {} labels x {} vs expected at most 1000000)", m, req.n));
  }
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  auto images =
      serve::sample(*model, rows, req.n, req.temperature, gen, req.sample_pixels, mixture);

  GenerateResult res;
  res.count = images.size(0);
  res.labels = data::label_names(conds, rows);
  core::create_parent_dirs(req.out);
  if (req.format == "png") {
    check_image_model(info.model, "PNG output");
    int64_t grid_rows = m, cols = req.n;
    if (m == 1) {  // one label: a square-ish grid
      cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(req.n))));
      grid_rows = (req.n + cols - 1) / cols;
    }
    serve::write_png_grid(req.out, images, grid_rows, cols);
    res.files = {req.out};
  } else {
    auto labels = rows.repeat_interleave(req.n, 0);
    res.files = serve::write_idx_pair(idx_prefix(req.out), images, labels);
  }
  return res;
}

TransferResult transfer(const TransferRequest& req) {
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  check_image_model(info.model, "transfer");
  if (req.format != "png" && req.format != "idx") {
    throw ConfigError(
        fmt::format("unknown --format (got '{}' vs expected png or idx)", req.format));
  }
  const auto& conds = info.model.conditions;
  if (req.split != "test" && req.split != "train") {
    throw ConfigError(
        fmt::format("unknown --split (got '{}' vs expected test or train)", req.split));
  }
  data::Dataset d =
      data::load_dataset(data::data_config_for_model(req.data, info.model.input_shape), req.split);
  data::check_compatible(d, info.model.input_shape, conds);
  if (req.indices.empty())
    throw ConfigError("no --index given (expected at least one example index)");
  for (auto i : req.indices) {
    if (i < 0 || i >= d.size()) {
      throw ConfigError(fmt::format("--index out of range (got {} vs expected 0..{} for '{}')", i,
                                    d.size() - 1, d.source));
    }
  }
  auto idx = torch::tensor(req.indices, torch::kInt64);
  auto x = d.x.index_select(0, idx);
  auto y = d.y.index_select(0, idx);
  auto targets = data::parse_labels(conds, req.to_labels);
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto out = serve::transfer(*model, x, y, targets, mixture);  // (N, T, C, H, W)
  core::create_parent_dirs(req.out);
  TransferResult res;
  if (req.format == "idx") {
    // The transferred images, example-major, each with its target label.
    res.files = serve::write_idx_pair(idx_prefix(req.out), out.flatten(0, 1),
                                      targets.repeat({x.size(0), 1}));
  } else {
    // Each row: the original, then one decoding per target label.
    auto strip = torch::cat({x.unsqueeze(1), out}, 1).flatten(0, 1);
    serve::write_png_grid(req.out, strip, x.size(0), targets.size(0) + 1);
    res.files = {req.out};
  }
  res.source_labels = data::label_names(conds, y);
  res.target_labels = data::label_names(conds, targets);
  return res;
}

InterpolateResult interpolate(const InterpolateRequest& req) {
  if (req.steps < 2 || req.steps > 1000) {
    throw ConfigError(fmt::format("--steps out of range (got {} vs expected 2..1000)", req.steps));
  }
  check_temperature(req.temperature);
  if (req.rows < 1 || req.rows > 1000) {
    throw ConfigError(fmt::format("--rows out of range (got {} vs expected 1..1000)", req.rows));
  }
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  check_image_model(info.model, "interpolate");
  const auto& conds = info.model.conditions;
  auto from = data::parse_labels(conds, {req.label});
  if (from.size(0) != 1)
    throw ConfigError(fmt::format("--label must name one label (got '{}')", req.label));
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  const int64_t z_dim = model->latent(), s = req.steps, r = req.rows;
  auto alpha = torch::linspace(0.0, 1.0, s).view({1, s, 1});  // (1, S, 1)
  auto z0 = serve::sample_latent(*model, from, r, req.temperature, gen, mixture).unsqueeze(1);
  auto z1 = serve::sample_latent(*model, from, r, req.temperature, gen, mixture).unsqueeze(1);
  auto c_from = data::encode_conditions(conds, from);  // (1, C)
  // Rows 1..R: from z0 to z1 at the fixed label.
  auto z = ((1 - alpha) * z0 + alpha * z1).reshape({r * s, z_dim});
  std::vector<torch::Tensor> parts = {serve::decode_mean(*model, z, c_from.expand({r * s, -1}))};
  int64_t grid_rows = r;
  if (!req.to_label.empty()) {
    auto to = data::parse_labels(conds, {req.to_label});
    if (to.size(0) != 1)
      throw ConfigError(fmt::format("--to-label must name one label (got '{}')", req.to_label));
    auto c_to = data::encode_conditions(conds, to);
    // Rows R+1..2R: one z (z0 of each row), the condition moving from one label to the other.
    auto a = alpha.view({1, s, 1});
    auto c = ((1 - a) * c_from.view({1, 1, -1}) + a * c_to.view({1, 1, -1})).expand({r, s, -1});
    auto zc = z0.expand({r, s, z_dim});
    parts.push_back(serve::decode_mean(*model, zc.reshape({r * s, z_dim}), c.reshape({r * s, -1})));
    grid_rows += r;
  }
  core::create_parent_dirs(req.out);
  serve::write_png_grid(req.out, torch::cat(parts, 0), grid_rows, s);
  return InterpolateResult{{req.out}};
}

std::string describe_model(const std::string& path, bool as_json) {
  models::ModelFile f = models::load_model_file(path);
  const auto bytes = fs::file_size(path);
  models::CVAE model(f.model);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  nlohmann::json j = {{"file", path},
                      {"bytes", bytes},
                      {"format_version", core::kContainerVersion},
                      {"written_by", f.header.value("cvae_version", std::string("?"))},
                      {"parameters", params},
                      {"model", f.model},
                      {"train", f.train},
                      {"state", f.header.at("state")},
                      {"resumable", f.resume.has_value()},
                      {"latent_mixture", !f.latent_mixture.empty()}};
  if (as_json) return j.dump(2) + "\n";
  std::string out;
  out += fmt::format("file            {} ({} bytes, format version {}, written by cvae {})\n", path,
                     bytes, core::kContainerVersion, j["written_by"].get<std::string>());
  out += fmt::format(
      "model           {} encoder/decoder{}, {} likelihood, {} prior, hidden {}, latent {}, {} "
      "parameters\n",
      f.model.arch,
      f.model.arch == "conv" ? fmt::format(" (channels {})", fmt::join(f.model.channels, ","))
                             : std::string(),
      f.model.likelihood, f.model.prior, fmt::join(f.model.hidden, ","), f.model.latent, params);
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
