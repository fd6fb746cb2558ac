#include "modalities/text/text.h"

#include <cmath>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "modalities/modality.h"
#include "modalities/text/decode.h"
#include "modalities/text/fidelity.h"
#include "modalities/text/rnn.h"
#include "modalities/text/text_data.h"
#include "modalities/text/tokens.h"
#include "models/likelihood.h"
#include "models/sampling.h"

namespace cvae::modalities::text {
namespace {

static_assert(Vocabulary::kPad == models::CategoricalLikelihood::kPad,
              "the categorical likelihood skips the padding token");

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
  return encode_texts(cfg.vocabulary, texts, cfg.input_shape.at(0));
}

class TextModality final : public Modality {
 public:
  // ---- the model layer's ModelKind ----
  std::string modality() const override { return "text"; }
  bool owns_unnamed(const std::vector<int64_t>& /*shape*/,
                    const std::vector<std::string>& vocabulary) const override {
    return !vocabulary.empty();  // text models have always stored their vocabulary
  }
  std::string default_arch(const ModelConfig& /*cfg*/) const override { return "rnn"; }
  std::string default_likelihood(const ModelConfig& /*cfg*/) const override {
    return "categorical";
  }
  std::vector<std::string> archs() const override { return {"rnn"}; }
  std::vector<std::string> likelihoods() const override { return {"categorical"}; }
  models::ClassifierFeatures classifier_features(
      torch::nn::Module& owner, const models::ClassifierConfig& cfg) const override {
    if (cfg.vocabulary.size() < 5 || cfg.input_shape.size() != 1) {
      throw ConfigError("classifier: text needs a vocabulary of at least 5 tokens and shape (T)");
    }
    // A bag of words: the mean embedding of the tokens that are not <pad>.
    auto embed = owner.register_module(
        "embed", torch::nn::Embedding(static_cast<int64_t>(cfg.vocabulary.size()), cfg.embedding));
    owner.register_module("convs", torch::nn::ModuleList());  // as files before modalities
    models::ClassifierFeatures f;
    f.width = cfg.embedding;
    f.forward = [embed](const torch::Tensor& x) {
      auto mask = (x != Vocabulary::kPad).to(torch::kFloat32).unsqueeze(2);  // (B, T, 1)
      return (embed->forward(x) * mask).sum(1) / mask.sum(1).clamp_min(1);   // (B, E)
    };
    return f;
  }

  // ---- data ----
  bool claims(const DataConfig& cfg) const override { return is_text_file(cfg); }
  std::string data_description() const override { return "a .tsv/.csv text file"; }
  data::Dataset load(const DataConfig& cfg, const std::string& split) const override {
    return load_text_dataset(cfg, split);
  }
  DataConfig reading_for(DataConfig cfg, const std::vector<int64_t>& shape,
                         const std::vector<std::string>& vocabulary) const override {
    if (!vocabulary.empty()) {
      cfg.vocabulary = vocabulary;
      cfg.max_tokens = shape.at(0);
    }
    return cfg;
  }
  void configure(ModelConfig& cfg, const data::Dataset& train) const override {
    cfg.vocabulary = train.vocabulary;
  }
  std::string training_fingerprint(const data::Dataset& train,
                                   const DataConfig& /*data*/) const override {
    return sequence_hashes_bytes(train.x);
  }

  Defaults defaults() const override {
    Defaults d;
    d.free_bits = 0.5;  // against posterior collapse (docs/text.md)
    d.iw_samples = 100;
    d.judge_epochs = 60;
    d.sampling = core::SamplingDefaults{false, 1.0, kTextCandidates};
    d.formats = {"tsv"};
    return d;
  }

  // ---- writers ----
  GenerateResult generate(const GenerateContext& ctx) const override {
    const GenerateRequest& req = ctx.request;
    const ModelConfig& cfg = ctx.info.model;
    GenerateResult res;
    auto ids = sample_text(ctx.model, ctx.rows, req.n, ctx.sampling.latent_temperature, ctx.mixture,
                           ctx.sampling.decode, ctx.gen);
    res.texts = decode_texts(cfg.vocabulary, ids);
    for (const auto& l : ctx.label_names) res.text_labels.insert(res.text_labels.end(), req.n, l);
    res.count = static_cast<int64_t>(res.texts.size());
    if (!req.out.empty()) {
      write_tsv(req.out, res.text_labels, res.texts);
      res.files = {req.out};
    }
    return res;
  }

  // Texts given by the user or examples of the data.
  TransferResult transfer(const TransferRequest& req, models::CVAEImpl& model,
                          const models::ModelFile& info) const override {
    const auto& cfg = info.model;
    const auto& conds = cfg.conditions;
    if (req.format != "png") {
      throw ConfigError(fmt::format(
          "--format {} does not fit a text model (transferred texts go to the terminal or a TSV "
          "--out file)",
          req.format));
    }
    auto dopt =
        core::resolve_sampling(defaults().sampling, req.temperature, -1, req.decoding).decode;
    if (dopt.method != "sample") dopt.rerank = 1;  // z is fixed: every candidate would be the same
    torch::Tensor x, y;
    if (!req.texts.empty()) {
      x = encode_user_texts(cfg, req.texts);
      y = req.from_label.empty()
              ? models::infer_labels(model, x)
              : one_label(conds, req.from_label, "--from-label").expand({x.size(0), -1}).clone();
    } else {
      if (req.data.path.empty())
        throw ConfigError("nothing to transfer (expected --text TEXT, or --data and --index)");
      std::tie(x, y) = indexed_examples(req, cfg);
    }
    auto targets = data::parse_labels(conds, req.to_labels);
    auto mixture = models::choose_sampler(req.sampler, info);
    auto z = models::transfer_latent(model, x, y, targets, mixture).first;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
    TransferResult res;
    auto ids = decode_text_reranked(
        model, [&] { return z; }, targets.repeat({x.size(0), 1}), dopt, gen);
    res.texts = decode_texts(cfg.vocabulary, ids);
    res.source_texts = decode_texts(cfg.vocabulary, x);
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

  // Between the posterior means of two texts, or (without texts) between two
  // latent draws for --label; decoded as --decode says (greedy by default),
  // without reranking.
  InterpolateResult interpolate(const InterpolateRequest& req, models::CVAEImpl& model,
                                const models::ModelFile& info) const override {
    const auto& cfg = info.model;
    const auto& conds = cfg.conditions;
    auto dopt = core::resolve_sampling(defaults().sampling, -1, -1, req.decoding).decode;
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
      auto y = req.label.empty() ? models::infer_labels(model, x)
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
      auto mixture = models::choose_sampler(req.sampler, info);
      z0 = models::sample_latent(model, from, rows, req.temperature, gen, mixture);
      z1 = models::sample_latent(model, from, rows, req.temperature, gen, mixture);
      c0 = c1 = data::encode_conditions(conds, from);
    }
    // (R, S, Z) and (R, S, C), row-major.
    auto z = (1 - alpha.unsqueeze(0)) * z0.unsqueeze(1) + alpha.unsqueeze(0) * z1.unsqueeze(1);
    auto c = (1 - alpha) * c0 + alpha * c1;  // (S, C)
    auto ids = decode_text(model, z.reshape({rows * s, z_dim}),
                           c.unsqueeze(0).expand({rows, s, -1}).reshape({rows * s, -1}), dopt, gen);
    InterpolateResult res;
    res.texts = decode_texts(cfg.vocabulary, ids);
    if (!req.out.empty()) {
      std::vector<std::string> steps;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < s; ++i) steps.push_back(fmt::format("{}:{}", r + 1, i + 1));
      write_tsv(req.out, steps, res.texts);
      res.files = {req.out};
    }
    return res;
  }

  // ---- evaluation ----
  void add_metrics(const MetricsContext& ctx) const override {
    EvalResult& r = ctx.result;
    r.tokens = (ctx.data.x != Vocabulary::kPad).sum().item<int64_t>();
    r.perplexity = std::exp(ctx.total_nll / static_cast<double>(std::max<int64_t>(1, r.tokens)));
  }

  bool judge_reads_own_data() const override { return true; }

  FidelityResult measure_fidelity(const FidelityContext& ctx) const override {
    TextFidelityOptions opt;
    opt.samples_per_label = ctx.request.samples_per_label;
    opt.latent_temperature = ctx.sampling.latent_temperature;
    opt.decode = ctx.sampling.decode;
    opt.transfer_examples = ctx.request.transfer_examples;
    FidelityResult f = measure_text_fidelity(ctx.model, ctx.judge, ctx.real, ctx.real_for_judge,
                                             ctx.info.train_sequences, ctx.mixture, opt, ctx.gen);
    f.softmax_temperature = ctx.sampling.decode.temperature;
    return f;
  }

  void fidelity_json(const FidelityResult& f, const EvalRequest& req,
                     nlohmann::json& j) const override {
    j["temperature"] = f.softmax_temperature;
    j["decode"] = req.decoding.method;
    j["distinct_1"] = f.distinct_1;
    j["distinct_2"] = f.distinct_2;
    j["real_distinct_1"] = f.real_distinct_1;
    j["real_distinct_2"] = f.real_distinct_2;
    j["copied_share"] = f.copied_share;
    j["examples_per_label"] = f.examples_per_label;
    // Text diversity is distinct-2 per label, not a distance: the same figures
    // under their names.
    j["distinct_2_per_label"] = j.at("sample_distance_per_label");
    j["real_distinct_2_per_label"] = j.at("real_distance_per_label");
    j.erase("sample_distance_per_label");
    j.erase("real_distance_per_label");
  }

  std::string fidelity_report(const FidelityResult& f, const EvalRequest& req) const override {
    std::string out = fmt::format(
        "samples: {} per label from the {} sampler at latent temperature {}, decoded by "
        "{} (temperature {}, top-k {}, top-p {}), each the best of {}; judged by {}\n",
        req.samples_per_label, f.sampler, f.latent_temperature, req.decoding.method,
        f.softmax_temperature, req.decoding.top_k, req.decoding.top_p, f.candidates, req.judge);
    out += fidelity_table(f, "d-2 ratio");
    out += fmt::format(
        "  distinct-1 / -2       {:.4f} / {:.4f} (real texts: {:.4f} / {:.4f}; ratio {:.3f})\n",
        f.distinct_1, f.distinct_2, f.real_distinct_1, f.real_distinct_2, f.diversity_ratio);
    out += fmt::format("  copied from training  {:10.4f} of the samples\n", f.copied_share);
    for (size_t k = 0; k < f.labels.size(); ++k) {
      for (const auto& t : f.examples_per_label[k])
        out += fmt::format("    {}: {}\n", f.labels[k], t);
    }
    if (f.transfer_count > 0) {
      out += fmt::format("  transfer accuracy     {:10.4f} ({} transfers)\n", f.transfer_accuracy,
                         f.transfer_count);
    }
    return out;
  }

  // ---- info ----
  void describe_json(nlohmann::json& model) const override {
    // The token list itself is long: its size here.
    const auto size = model.at("vocabulary").size();
    model.erase("vocabulary");
    model["vocabulary_size"] = size;
  }
};

}  // namespace

void register_text() {
  models::register_backbone(rnn_backbone());
  register_modality(std::make_shared<TextModality>());
}

}  // namespace cvae::modalities::text
