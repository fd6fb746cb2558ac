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
#include "data/idx.h"
#include "data/png.h"
#include "lite/mlp_sampler.h"
#include "models/model_file.h"
#include "serve/generate_output.h"
#include "serve/serve.h"
#include "serve/text_decode.h"

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

// Writes label<TAB>text lines atomically.
void write_tsv(const std::string& path, const std::vector<std::string>& labels,
               const std::vector<std::string>& texts) {
  std::string body;
  for (size_t i = 0; i < texts.size(); ++i) body += labels.at(i) + "\t" + texts[i] + "\n";
  core::create_parent_dirs(path);
  core::write_file_atomic(path, body);
}

// Token ids of user texts for a text model; DataError on empty or invalid text.
torch::Tensor encode_user_texts(const ModelConfig& cfg, const std::vector<std::string>& texts) {
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].find_first_not_of(" \t\r\n") == std::string::npos) {
      throw DataError(fmt::format("--text {} is empty (expected some words)", i + 1));
    }
  }
  return data::encode_texts(cfg.vocabulary, texts, cfg.input_shape.at(0));
}

// The label row (1, K) that `name` names; ConfigError unless it names exactly one.
torch::Tensor one_label(const std::vector<ConditionSpec>& conds, const std::string& name,
                        const char* option) {
  auto row = data::parse_labels(conds, {name});
  if (row.size(0) != 1)
    throw ConfigError(fmt::format("{} must name one label (got '{}')", option, name));
  return row;
}

// The examples --index picks from --split of --data, read as the model reads
// them: x (N, S...), y (N, K).
std::pair<torch::Tensor, torch::Tensor> indexed_examples(const TransferRequest& req,
                                                         const ModelConfig& cfg) {
  if (req.split != "test" && req.split != "train") {
    throw ConfigError(
        fmt::format("unknown --split (got '{}' vs expected test or train)", req.split));
  }
  data::Dataset d = data::load_dataset(
      data::data_config_for_model(req.data, cfg.input_shape, cfg.vocabulary), req.split);
  data::check_compatible(d, cfg.input_shape, cfg.conditions);
  if (req.indices.empty())
    throw ConfigError("no --index given (expected at least one example index)");
  for (auto i : req.indices) {
    if (i < 0 || i >= d.size()) {
      throw ConfigError(fmt::format("--index out of range (got {} vs expected 0..{} for '{}')", i,
                                    d.size() - 1, d.source));
    }
  }
  auto idx = torch::tensor(req.indices, torch::kInt64);
  return {d.x.index_select(0, idx), d.y.index_select(0, idx)};
}

}  // namespace

const char* version() { return CVAE_VERSION; }

GenerateResult generate(const GenerateRequest& req) {
  serve::check_generate_request(req);
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  const bool text = model->is_text();
  const std::string format = req.format == "auto" ? (text ? "tsv" : "png") : req.format;
  if (text != (format == "tsv")) {
    throw ConfigError(fmt::format("--format {} does not fit this {} model (expected {})", format,
                                  text ? "text" : "image", text ? "tsv" : "png or idx"));
  }
  const serve::Sampling sampling =
      serve::resolve_sampling(text, req.temperature, req.latent_temperature, req.decoding);
  const auto& conds = info.model.conditions;
  const data::LabelRows label_rows = data::parse_label_rows(conds, req.labels);
  auto rows = data::label_rows_tensor(label_rows, static_cast<int64_t>(conds.size()));
  serve::check_sample_count(rows.size(0), req.n);
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);

  GenerateResult res;
  res.labels = data::label_names(conds, rows);
  if (text) {
    auto ids = serve::sample_text(*model, rows, req.n, sampling.latent_temperature, mixture,
                                  sampling.decode, gen);
    res.texts = data::decode_texts(info.model.vocabulary, ids);
    for (const auto& l : res.labels) res.text_labels.insert(res.text_labels.end(), req.n, l);
    res.count = static_cast<int64_t>(res.texts.size());
    if (!req.out.empty()) {
      write_tsv(req.out, res.text_labels, res.texts);
      res.files = {req.out};
    }
    return res;
  }
  torch::Tensor images;
  if (lite::sampler_supports(info.model) && !mixture.defined() && !req.sample_pixels &&
      sampling.decode.rerank <= 1) {
    // The torch-free sampler, which `cvae generate` also runs without libtorch
    // (lite/cli.h): the same images for the same seed either way.
    images =
        serve::sample_mlp_images(*model, label_rows, req.n, sampling.latent_temperature, req.seed);
  } else {
    images = serve::sample(*model, rows, req.n, sampling.latent_temperature, gen, req.sample_pixels,
                           mixture, sampling.decode.rerank);
  }
  res.count = images.size(0);
  res.files = serve::write_image_samples(req.out, format, serve::to_bytes(images),
                                         info.model.input_shape, label_rows, req.n);
  return res;
}

namespace {

// Transfer for text models: texts given by the user or examples of the data.
TransferResult transfer_text(const TransferRequest& req, models::CVAEImpl& model,
                             const models::ModelFile& info) {
  const auto& cfg = info.model;
  const auto& conds = cfg.conditions;
  if (req.format != "png") {
    throw ConfigError(fmt::format(
        "--format {} does not fit a text model (transferred texts go to the terminal or a TSV "
        "--out file)",
        req.format));
  }
  auto dopt = serve::resolve_sampling(true, req.temperature, -1, req.decoding).decode;
  if (dopt.method != "sample") dopt.rerank = 1;  // z is fixed: every candidate would be the same
  torch::Tensor x, y;
  if (!req.texts.empty()) {
    x = encode_user_texts(cfg, req.texts);
    y = req.from_label.empty()
            ? serve::infer_labels(model, x)
            : one_label(conds, req.from_label, "--from-label").expand({x.size(0), -1}).clone();
  } else {
    if (req.data.path.empty())
      throw ConfigError("nothing to transfer (expected --text TEXT, or --data and --index)");
    std::tie(x, y) = indexed_examples(req, cfg);
  }
  auto targets = data::parse_labels(conds, req.to_labels);
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto z = serve::transfer_latent(model, x, y, targets, mixture).first;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  TransferResult res;
  auto ids = serve::decode_text_reranked(
      model, [&] { return z; }, targets.repeat({x.size(0), 1}), dopt, gen);
  res.texts = data::decode_texts(cfg.vocabulary, ids);
  res.source_texts = data::decode_texts(cfg.vocabulary, x);
  res.source_labels = data::label_names(conds, y);
  res.target_labels = data::label_names(conds, targets);
  if (!req.out.empty()) {
    std::vector<std::string> labels;
    for (int64_t i = 0; i < x.size(0); ++i)
      labels.insert(labels.end(), res.target_labels.begin(), res.target_labels.end());
    write_tsv(req.out, labels, res.texts);
    res.files = {req.out};
  }
  return res;
}

}  // namespace

TransferResult transfer(const TransferRequest& req) {
  core::set_threads(req.threads);
  models::ModelFile info;
  auto model = models::load_model(req.model, &info);
  if (model->is_text()) return transfer_text(req, *model, info);
  if (!req.texts.empty()) throw ConfigError("--text needs a text model (this one reads images)");
  check_image_model(info.model, "transfer");
  const std::string out_path = req.out.empty() ? "transfer.png" : req.out;
  if (req.format != "png" && req.format != "idx") {
    throw ConfigError(
        fmt::format("unknown --format (got '{}' vs expected png or idx)", req.format));
  }
  const auto& conds = info.model.conditions;
  auto [x, y] = indexed_examples(req, info.model);
  auto targets = data::parse_labels(conds, req.to_labels);
  auto mixture = serve::choose_sampler(req.sampler, info);
  auto out = serve::transfer(*model, x, y, targets, mixture);  // (N, T, C, H, W)
  core::create_parent_dirs(out_path);
  TransferResult res;
  if (req.format == "idx") {
    // The transferred images, example-major, each with its target label.
    res.files = serve::write_idx_pair(data::idx_prefix(out_path), out.flatten(0, 1),
                                      targets.repeat({x.size(0), 1}));
  } else {
    // Each row: the original, then one decoding per target label.
    auto strip = torch::cat({x.unsqueeze(1), out}, 1).flatten(0, 1);
    serve::write_png_grid(out_path, strip, x.size(0), targets.size(0) + 1);
    res.files = {out_path};
  }
  res.source_labels = data::label_names(conds, y);
  res.target_labels = data::label_names(conds, targets);
  return res;
}

namespace {

// Interpolation for text models: between the posterior means of two texts, or
// (without texts) between two latent draws for --label; decoded as --decode says
// (greedy by default), without reranking.
InterpolateResult interpolate_text(const InterpolateRequest& req, models::CVAEImpl& model,
                                   const models::ModelFile& info) {
  const auto& cfg = info.model;
  const auto& conds = cfg.conditions;
  auto dopt = serve::resolve_sampling(true, -1, -1, req.decoding).decode;
  if (dopt.rerank > 1) {
    throw ConfigError(fmt::format(
        "--rerank does not apply to interpolation (got {} vs expected 1): the condition moves "
        "between labels along the walk",
        dopt.rerank));
  }
  if (!req.to_label.empty()) {
    throw ConfigError(
        "--to-label is for images; text interpolation moves from --from-text's "
        "label to --to-text's");
  }
  auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
  const int64_t s = req.steps, z_dim = model.latent();
  auto alpha = torch::linspace(0.0, 1.0, s).view({s, 1});  // (S, 1)
  torch::Tensor z0, z1, c0, c1;
  int64_t rows = req.rows;
  if (!req.from_text.empty() || !req.to_text.empty()) {
    if (req.from_text.empty() || req.to_text.empty())
      throw ConfigError("text interpolation needs both --from-text and --to-text");
    auto x = encode_user_texts(cfg, {req.from_text, req.to_text});
    auto y = req.label.empty() ? serve::infer_labels(model, x)
                               : one_label(conds, req.label, "--label").expand({2, -1}).clone();
    auto c = data::encode_conditions(conds, y);
    torch::NoGradGuard no_grad;
    auto mu = model.encode(x, c).first;
    z0 = mu.slice(0, 0, 1), z1 = mu.slice(0, 1, 2);
    c0 = c.slice(0, 0, 1), c1 = c.slice(0, 1, 2);
    rows = 1;
  } else {
    if (req.label.empty()) throw ConfigError("no --label given (expected the label of the walk)");
    auto from = one_label(conds, req.label, "--label");
    auto mixture = serve::choose_sampler(req.sampler, info);
    z0 = serve::sample_latent(model, from, rows, req.temperature, gen, mixture);
    z1 = serve::sample_latent(model, from, rows, req.temperature, gen, mixture);
    c0 = c1 = data::encode_conditions(conds, from);
  }
  // (R, S, Z) and (R, S, C), row-major.
  auto z = (1 - alpha.unsqueeze(0)) * z0.unsqueeze(1) + alpha.unsqueeze(0) * z1.unsqueeze(1);
  auto c = (1 - alpha) * c0 + alpha * c1;  // (S, C)
  auto ids =
      serve::decode_text(model, z.reshape({rows * s, z_dim}),
                         c.unsqueeze(0).expand({rows, s, -1}).reshape({rows * s, -1}), dopt, gen);
  InterpolateResult res;
  res.texts = data::decode_texts(cfg.vocabulary, ids);
  if (!req.out.empty()) {
    std::vector<std::string> steps;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < s; ++i) steps.push_back(fmt::format("{}:{}", r + 1, i + 1));
    write_tsv(req.out, steps, res.texts);
    res.files = {req.out};
  }
  return res;
}

}  // namespace

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
  if (model->is_text()) return interpolate_text(req, *model, info);
  if (!req.from_text.empty() || !req.to_text.empty())
    throw ConfigError("--from-text and --to-text need a text model (this one reads images)");
  check_image_model(info.model, "interpolate");
  if (req.label.empty()) throw ConfigError("no --label given (expected the label of the walk)");
  const std::string out_path = req.out.empty() ? "interp.png" : req.out;
  const auto& conds = info.model.conditions;
  auto from = one_label(conds, req.label, "--label");
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
    auto to = one_label(conds, req.to_label, "--to-label");
    auto c_to = data::encode_conditions(conds, to);
    // Rows R+1..2R: one z (z0 of each row), the condition moving from one label to the other.
    auto a = alpha.view({1, s, 1});
    auto c = ((1 - a) * c_from.view({1, 1, -1}) + a * c_to.view({1, 1, -1})).expand({r, s, -1});
    auto zc = z0.expand({r, s, z_dim});
    parts.push_back(serve::decode_mean(*model, zc.reshape({r * s, z_dim}), c.reshape({r * s, -1})));
    grid_rows += r;
  }
  core::create_parent_dirs(out_path);
  serve::write_png_grid(out_path, torch::cat(parts, 0), grid_rows, s);
  return InterpolateResult{{out_path}, {}};
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
  if (!f.model.vocabulary.empty()) {  // the token list itself is long: its size here
    j["model"].erase("vocabulary");
    j["model"]["vocabulary_size"] = f.model.vocabulary.size();
  }
  if (as_json) return j.dump(2) + "\n";
  std::string out;
  out += fmt::format("file            {} ({} bytes, format version {}, written by cvae {})\n", path,
                     bytes, core::kContainerVersion, j["written_by"].get<std::string>());
  out += fmt::format(
      "model           {} encoder/decoder{}, {} likelihood, {} prior, hidden {}, latent {}, {} "
      "parameters\n",
      f.model.arch,
      f.model.arch == "conv" ? fmt::format(" (channels {})", fmt::join(f.model.channels, ","))
      : f.model.arch == "rnn"
          ? fmt::format(" (GRU, embedding {}, word dropout {}, vocabulary {} "
                        "tokens)",
                        f.model.embedding, f.model.word_dropout, f.model.vocabulary.size())
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
