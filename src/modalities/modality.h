// A modality: one kind of data (images, text, ...) and everything about it that
// the rest of the code needs. The trainer, evaluation, serve and the CLI call
// only this interface (and the model layer's Backbone and ModelKind,
// models/backbone.h); nothing outside src/modalities/ asks which modality it has.
//
// A modality supplies:
//   - its readers, and which data it claims for --modality auto (claims, load,
//     reading_for, configure, training_fingerprint);
//   - its backbones, default likelihood and classifier layers (ModelKind, and
//     the backbones it registers with models::register_backbone);
//   - its training, evaluation and sampling defaults (defaults);
//   - its writers: generate, transfer and interpolate turn decoder output into
//     files a person opens (PNG/IDX, TSV, ...), including any options of its
//     own (transfer --text);
//   - its conditional-fidelity measure for eval --judge (what the judge reads,
//     how diversity is measured), and any metrics of its own (perplexity);
//   - what `cvae info` shows of its own (describe_json).
//
// Adding one: docs/architecture.md, "Adding a modality".
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/config.h"
#include "data/dataset.h"
#include "io/labels.h"
#include "models/backbone.h"
#include "models/classifier.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"
#include "models/model_file.h"

namespace cvae::modalities {

// What generate hands a modality's writer: the request, the loaded model and
// its file, the requested label rows (M of K), the same as a tensor (M, K) and
// their names, the resolved sampling options and sampler, and the output
// format (never "auto"). generate sets GenerateResult::labels itself.
struct GenerateContext {
  const GenerateRequest& request;
  models::CVAEImpl& model;
  const models::ModelFile& info;
  const io::LabelRows& label_rows;
  const torch::Tensor& rows;
  const std::vector<std::string>& label_names;
  const core::Sampling& sampling;
  const models::LatentMixture& mixture;  // undefined: the prior
  const std::string& format;
  at::Generator& gen;
};

// What eval --judge hands a modality's fidelity measure.
struct FidelityContext {
  models::CVAEImpl& model;
  const models::ModelFile& info;
  models::ClassifierImpl& judge;
  const models::ClassifierConfig& judge_config;
  const data::Dataset& real;  // the split as the model reads it (model label indices)
  // The same examples as the judge reads them (its own reading, judge label
  // indices), when the modality asks for it (judge_reads_own_data); else empty.
  const data::Dataset& real_for_judge;
  const EvalRequest& request;
  const models::LatentMixture& mixture;  // undefined: the prior
  const core::Sampling& sampling;
  at::Generator& gen;
};

// What eval hands a modality's own metrics.
struct MetricsContext {
  EvalResult& result;
  const data::Dataset& data;  // the split as the model reads it
  double total_nll;           // -log p over it (nats; the IWAE bound, or -ELBO without one)
  models::CVAEImpl& model;
  const models::ModelFile& info;
  const EvalRequest& request;
};

class Modality : public models::ModelKind {
 public:
  // ---- data ------------------------------------------------------------------
  // Whether the data at cfg.path is of this kind (--modality auto).
  virtual bool claims(const DataConfig& cfg) const = 0;
  // What it reads, for messages: "a directory of IDX files or of image folders".
  virtual std::string data_description() const = 0;
  // Split "train" or "test" of the data at cfg.path; DataError on bad input.
  virtual data::Dataset load(const DataConfig& cfg, const std::string& split) const = 0;
  // cfg for reading data as a trained network reads it: its per-example shape
  // S and tokens (ModelConfig::vocabulary, or a judge's).
  virtual DataConfig reading_for(DataConfig cfg, const std::vector<int64_t>& shape,
                                 const std::vector<std::string>& vocabulary) const = 0;
  // What a new model takes from its training data besides the modality, the
  // shape and the conditions (text: the vocabulary).
  virtual void configure(ModelConfig& /*cfg*/, const data::Dataset& /*train*/) const {}
  // Bytes stored in the model file about the training data (read from `data`),
  // for evaluation (text: hashes of the training texts, to count copies; item
  // sets: the split and its training users); "" = none.
  virtual std::string training_fingerprint(const data::Dataset& /*train*/,
                                           const DataConfig& /*data*/) const {
    return {};
  }
  // A new model on this data: the modality's own defaults for the options the
  // user did not give (TrainRequest::given, long names such as "hidden").
  virtual void train_defaults(ModelConfig& /*model*/, TrainConfig& /*train*/,
                              const std::vector<std::string>& /*given*/) const {}

  // ---- defaults ----------------------------------------------------------------
  struct Defaults {
    double free_bits = 0;       // TrainConfig::free_bits -1 (auto)
    int64_t iw_samples = 1000;  // EvalRequest::iw_samples -1 (auto)
    int64_t judge_epochs = 15;  // ClassifierTrainRequest::epochs 0 (auto)
    core::SamplingDefaults sampling;
    std::vector<std::string> formats = {"png"};  // what generate writes; the first is "auto"
  };
  virtual Defaults defaults() const = 0;

  // ---- writers and sub-commands ------------------------------------------------
  virtual GenerateResult generate(const GenerateContext& ctx) const = 0;
  virtual TransferResult transfer(const TransferRequest& req, models::CVAEImpl& model,
                                  const models::ModelFile& info) const = 0;
  // req's steps, rows and temperature are checked by the caller.
  virtual InterpolateResult interpolate(const InterpolateRequest& req, models::CVAEImpl& model,
                                        const models::ModelFile& info) const = 0;

  // ---- evaluation ----------------------------------------------------------------
  // Metrics of its own (text: perplexity; item sets: ranking metrics) into
  // ctx.result, after the likelihood pass.
  virtual void add_metrics(const MetricsContext& /*ctx*/) const {}
  // ConfigError when the judge cannot judge this model's examples (checked
  // before the likelihood evaluation).
  virtual void check_judge(const ModelConfig& /*model*/, const models::ClassifierConfig& /*judge*/,
                           const std::string& /*judge_path*/) const {}
  // Whether the judge reads the split its own way (FidelityContext::real_for_judge).
  virtual bool judge_reads_own_data() const { return false; }
  virtual FidelityResult measure_fidelity(const FidelityContext& ctx) const = 0;
  // The modality's own fields of eval's JSON (eval_to_json); j holds the shared ones.
  virtual void fidelity_json(const FidelityResult& /*f*/, const EvalRequest& /*req*/,
                             nlohmann::json& /*j*/) const {}
  // The fidelity part of eval's report for a person (cvae::fidelity_report):
  // by default the sampler, then judge and diversity figures per label, then the
  // transfer accuracy.
  virtual std::string fidelity_report(const FidelityResult& f, const EvalRequest& req) const;

  // ---- sub-commands of its own ----------------------------------------------------
  // recommend: by default a ConfigError (only item-set models recommend).
  virtual RecommendResult recommend(const RecommendRequest& req, models::CVAEImpl& model,
                                    const models::ModelFile& info) const;

  // ---- info ------------------------------------------------------------------------
  // The model config's JSON as `cvae info --json` shows it (e.g. a long
  // vocabulary as its size).
  virtual void describe_json(nlohmann::json& /*model*/) const {}
};

// The registry. register_modality also registers it as the model layer's kind.
void register_modality(std::shared_ptr<const Modality> modality);
// Registers the built-in modalities (src/modalities/registry.cpp) once; every
// lookup here calls it, and so does every public API function before it
// reaches the model layer's registries (which do not link this layer).
void register_builtins();
const Modality& modality(const std::string& name);  // ConfigError listing the known ones
std::vector<std::string> modality_names();
// The modality of a model (its config names it, or the kind that owns an older file).
const Modality& modality_of(const ModelConfig& cfg);
// The modality that reads cfg.path: cfg.modality, or for "auto" the first that claims it.
const Modality& modality_for_data(const DataConfig& cfg);

// Split "train" or "test" of the data at cfg.path through its modality: checks
// the request and the path, and that it holds examples. The dataset names its modality.
data::Dataset load_dataset(const DataConfig& cfg, const std::string& split);
// The same, read as a network of this modality, shape and vocabulary reads it
// (a trained model, or a judge).
data::Dataset load_dataset_for(const DataConfig& cfg, const std::string& split,
                               const std::string& modality, const std::vector<int64_t>& shape,
                               const std::vector<std::string>& vocabulary);

// Helpers for the modalities' sub-commands.
// The per-label table of a fidelity report: conditional accuracy, the judge on
// real examples, and the diversity ratio under the column name `diversity`.
std::string fidelity_table(const FidelityResult& f, const std::string& diversity);
// The label row (1, K) that `name` names; ConfigError unless it names exactly one.
torch::Tensor one_label(const std::vector<ConditionSpec>& conds, const std::string& name,
                        const char* option);
// The examples req.indices picks from req.split of req.data, read as the model
// reads them: x (N, S...), y (N, K).
std::pair<torch::Tensor, torch::Tensor> indexed_examples(const TransferRequest& req,
                                                         const ModelConfig& cfg);

}  // namespace cvae::modalities
