// Backbones and model kinds: the two registries through which the model layer
// builds networks without knowing what the data is.
//
//  - A Backbone is the encoder and decoder for one --arch ("mlp", "conv",
//    "rnn", ...). It validates its own options, counts its own parameters and
//    builds its modules.
//  - A ModelKind is what a modality (src/modalities/) says about models of its
//    data: what "auto" means for the backbone and the likelihood, which of them
//    fit, and the network a classifier of its examples starts with.
//
// Modalities register both (src/modalities/registry.cpp lists the built-in
// ones; modalities::register_builtins, which every public API function calls
// first, registers them: this layer does not link the modalities).
//
// Shape legend: B batch, S... per-example shape, D = prod(S) features,
// C condition width, Z latent size, P likelihood parameters per feature.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cvae/config.h"

namespace cvae::models {

// Encoder backbone: (x, c) -> (mu, logvar) before clamping.
class EncoderBase : public torch::nn::Module {
 public:
  // x (B, S...), c (B, C) -> mu (B, Z), logvar (B, Z)
  virtual std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                          const torch::Tensor& c) = 0;
  // As DecoderBase::set_generator (e.g. input dropout).
  virtual void set_generator(at::Generator* /*gen*/) {}
};

// Decoder backbone: (z, c) -> likelihood parameters.
class DecoderBase : public torch::nn::Module {
 public:
  // z (B, Z), c (B, C), x (B, S...) -> x_params (B, P*D). x is the example being
  // explained: autoregressive decoders condition position t on x before t
  // (teacher forcing) and need it; the others ignore it (it may be undefined).
  virtual torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                                const torch::Tensor& x) = 0;
  // The generator of any randomness the decoder draws in training (e.g. word
  // dropout): the trainer's, saved with the run, so a resume is exact. Not
  // owned; nullptr = torch's default generator. Decoders without randomness ignore it.
  virtual void set_generator(at::Generator* /*gen*/) {}
};

class Backbone {
 public:
  virtual ~Backbone() = default;
  virtual std::string name() const = 0;  // the --arch value
  // ConfigError naming the option, the value and what fits, when cfg's options
  // (shape, widths, the backbone's own) do not fit this backbone.
  virtual void validate(const ModelConfig& cfg) const = 0;
  // Weights of the encoder and decoder (not the prior), for the model-size bound.
  virtual double parameters(const ModelConfig& cfg, int64_t params_per_feature) const = 0;
  virtual std::shared_ptr<EncoderBase> encoder(const ModelConfig& cfg) const = 0;
  virtual std::shared_ptr<DecoderBase> decoder(const ModelConfig& cfg,
                                               int64_t params_per_feature) const = 0;
  // Its own options for `cvae info`, e.g. " (channels 32,64)"; "" when none.
  virtual std::string describe(const ModelConfig& /*cfg*/) const { return {}; }
  // What to make smaller when the model is too large, e.g. "smaller --hidden widths".
  virtual std::string size_hint() const { return "smaller --hidden widths"; }
};

struct ClassifierConfig;

// The first part of a classifier network (the judge, q(y|x)) on one kind of
// example: its modules registered on the classifier, and the features they
// give. x (B, S...) -> (B, F).
struct ClassifierFeatures {
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  int64_t width = 0;  // F
};

class ModelKind {
 public:
  virtual ~ModelKind() = default;
  virtual std::string modality() const = 0;  // the name ModelConfig::modality holds
  // For configs that do not name their modality (model and judge files written
  // before it was stored): whether they are of this kind. shape S, vocabulary
  // as stored.
  virtual bool owns_unnamed(const std::vector<int64_t>& shape,
                            const std::vector<std::string>& vocabulary) const = 0;
  // What "auto" resolves to for a config of this kind.
  virtual std::string default_arch(const ModelConfig& cfg) const = 0;
  virtual std::string default_likelihood(const ModelConfig& cfg) const = 0;
  // The backbones and likelihoods that fit this data.
  virtual std::vector<std::string> archs() const = 0;
  virtual std::vector<std::string> likelihoods() const = 0;
  // Builds the classifier's first layers on `owner` (registering its modules
  // under the names earlier files used, in the order they were created).
  virtual ClassifierFeatures classifier_features(torch::nn::Module& owner,
                                                 const ClassifierConfig& cfg) const = 0;
};

void register_backbone(std::shared_ptr<const Backbone> backbone);
void register_model_kind(std::shared_ptr<const ModelKind> kind);

// ConfigError listing the known names when there is none of that name.
const Backbone& backbone(const std::string& arch);
std::vector<std::string> backbone_names();
const ModelKind& model_kind(const std::string& modality);
// The kind of a config: its modality when named, else the kind that owns it.
const ModelKind& model_kind_of(const std::string& modality, const std::vector<int64_t>& shape,
                               const std::vector<std::string>& vocabulary);
const ModelKind& model_kind_of(const ModelConfig& cfg);
std::vector<std::string> model_kind_names();

// cfg with modality, arch and likelihood resolved ("auto" and unnamed ones as
// the kind says), validated as a whole: ModelConfig::validate, the backbone's
// own checks, the kind's fit (archs, likelihoods) and the model-size bound.
ModelConfig resolve_model_config(ModelConfig cfg);

// Registers the model layer's own backbone (the generic MLP), once, before
// anything else is registered or looked up. Every registry function calls it.
// The modalities and their backbones are registered from above
// (modalities::register_builtins, which the public API calls first): this
// layer does not link the modalities.
void ensure_builtin_registrations();

}  // namespace cvae::models
