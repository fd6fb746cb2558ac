#include "modalities/items/multvae.h"

#include <limits>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "modalities/items/items_data.h"
#include "modalities/items/lite/catalogue.h"

namespace cvae::modalities::items {

MultEncoder::MultEncoder(int64_t items, int64_t cond_width, const std::vector<int64_t>& hidden,
                         int64_t latent, double dropout)
    : dropout_(dropout) {
  layers_ = register_module("layers", torch::nn::ModuleList());
  int64_t in = items + cond_width;
  for (auto h : hidden) {
    layers_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  mu_head_ = register_module("mu_head", torch::nn::Linear(in, latent));
  logvar_head_ = register_module("logvar_head", torch::nn::Linear(in, latent));
}

std::pair<torch::Tensor, torch::Tensor> MultEncoder::forward(const torch::Tensor& x,
                                                             const torch::Tensor& c) {
  auto h = x.to(torch::kFloat32);
  h = h / h.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);  // L2-normalised rows
  if (is_training() && dropout_ > 0) {
    // Inverted dropout, as torch's: kept entries are scaled by 1 / (1 - p).
    auto u = gen_ ? torch::rand(h.sizes(), *gen_) : torch::rand(h.sizes());
    h = h * (u >= dropout_).to(h.scalar_type()) / (1.0 - dropout_);
  }
  h = torch::cat({h, c}, 1);
  for (const auto& layer : *layers_) h = torch::tanh(layer->as<torch::nn::Linear>()->forward(h));
  return {mu_head_->forward(h), logvar_head_->forward(h)};
}

MultDecoder::MultDecoder(int64_t items, int64_t cond_width, const std::vector<int64_t>& hidden,
                         int64_t latent, torch::Tensor allowed)
    : allowed_(std::move(allowed)) {
  if (allowed_.defined()) first_labels_ = allowed_.size(0);
  layers_ = register_module("layers", torch::nn::ModuleList());
  int64_t in = latent + cond_width;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    layers_->push_back(torch::nn::Linear(in, *it));
    in = *it;
  }
  layers_->push_back(torch::nn::Linear(in, items));
}

torch::Tensor MultDecoder::unmasked(const torch::Tensor& z, const torch::Tensor& c) {
  auto h = torch::cat({z, c}, 1);
  const size_t n = layers_->size();
  for (size_t i = 0; i < n; ++i) {
    h = layers_[i]->as<torch::nn::Linear>()->forward(h);
    if (i + 1 < n) h = torch::tanh(h);
  }
  return h;  // (B, I)
}

torch::Tensor MultDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                   const torch::Tensor& /*x*/) {
  auto logits = unmasked(z, c);
  if (!allowed_.defined()) return logits;
  // c's first L columns are the genre condition's code: a label row (one-hot,
  // or a mix) allows the items any of its labels allows.
  auto allowed = c.slice(1, 0, first_labels_).matmul(allowed_) > 0;  // (B, I)
  return logits.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
}

namespace {

class MultVaeBackbone final : public models::Backbone {
 public:
  std::string name() const override { return "multvae"; }

  void validate(const ModelConfig& cfg) const override {
    if (cfg.input_shape.size() != 1) {
      throw ConfigError(fmt::format("item sets need a 1-dimensional shape (got {} dimensions)",
                                    cfg.input_shape.size()));
    }
    if (static_cast<int64_t>(cfg.vocabulary.size()) != cfg.input_shape[0]) {
      throw ConfigError(
          fmt::format("multvae needs one catalogue entry per item (got {} entries vs expected {})",
                      cfg.vocabulary.size(), cfg.input_shape[0]));
    }
    if (cfg.hidden.empty()) throw ConfigError("multvae needs at least one --hidden width");
    if (cfg.conditions.empty() || cfg.conditions[0].name != kGenreCondition ||
        cfg.conditions[0].labels.empty() || cfg.conditions[0].labels[0] != kAnyGenre) {
      throw ConfigError(fmt::format(
          "multvae's first condition must be '{}' with first label '{}' (item-set data gives it)",
          kGenreCondition, kAnyGenre));
    }
  }

  double parameters(const ModelConfig& cfg, int64_t /*params_per_feature*/) const override {
    const double items = static_cast<double>(cfg.input_shape.at(0));
    const double cond = static_cast<double>(condition_width(cfg.conditions));
    const double z = static_cast<double>(cfg.latent);
    double total = 0, in = items + cond;
    for (auto h : cfg.hidden) total += (in + 1) * static_cast<double>(h), in = double(h);
    total += 2 * (in + 1) * z;  // heads
    in = z + cond;
    for (auto it = cfg.hidden.rbegin(); it != cfg.hidden.rend(); ++it)
      total += (in + 1) * static_cast<double>(*it), in = double(*it);
    return total + (in + 1) * items;
  }

  std::shared_ptr<models::EncoderBase> encoder(const ModelConfig& cfg) const override {
    return std::make_shared<MultEncoder>(cfg.input_shape.at(0), condition_width(cfg.conditions),
                                         cfg.hidden, cfg.latent, kInputDropout);
  }

  std::shared_ptr<models::DecoderBase> decoder(const ModelConfig& cfg,
                                               int64_t /*params_per_feature*/) const override {
    const Catalogue cat = parse_catalogue(cfg.vocabulary, "the model's catalogue");
    return std::make_shared<MultDecoder>(cfg.input_shape.at(0), condition_width(cfg.conditions),
                                         cfg.hidden, cfg.latent,
                                         allowed_items(cat, cfg.conditions.at(0).labels));
  }

  std::string describe(const ModelConfig& cfg) const override {
    return fmt::format(" (Mult-VAE, tanh, input dropout {}, {} items)", kInputDropout,
                       cfg.input_shape.at(0));
  }
};

}  // namespace

std::shared_ptr<const models::Backbone> multvae_backbone() {
  return std::make_shared<MultVaeBackbone>();
}

}  // namespace cvae::modalities::items
