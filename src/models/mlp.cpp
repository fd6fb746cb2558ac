#include "models/mlp.h"

#include "core/weight_names.h"

namespace cvae::models {

MLPEncoder::MLPEncoder(int64_t features, int64_t cond_width, const std::vector<int64_t>& hidden,
                       int64_t latent) {
  int64_t in = features + cond_width;
  for (int64_t h : hidden) {
    layers_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  register_module(weights::kLayers, layers_);
  mu_head_ = register_module(weights::kMuHead, torch::nn::Linear(in, latent));
  logvar_head_ = register_module(weights::kLogvarHead, torch::nn::Linear(in, latent));
}

std::pair<torch::Tensor, torch::Tensor> MLPEncoder::forward(const torch::Tensor& x,
                                                            const torch::Tensor& c) {
  auto h = torch::cat({x.flatten(1), c}, 1);  // (B, D + C)
  for (const auto& layer : *layers_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return {mu_head_->forward(h), logvar_head_->forward(h)};  // (B, Z), (B, Z)
}

MLPDecoder::MLPDecoder(int64_t latent, int64_t cond_width, const std::vector<int64_t>& hidden,
                       int64_t outputs) {
  int64_t in = latent + cond_width;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    layers_->push_back(torch::nn::Linear(in, *it));
    in = *it;
  }
  register_module(weights::kLayers, layers_);
  out_ = register_module(weights::kOut, torch::nn::Linear(in, outputs));
}

torch::Tensor MLPDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                  const torch::Tensor& /*x*/) {
  auto h = torch::cat({z, c}, 1);  // (B, Z + C)
  for (const auto& layer : *layers_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return out_->forward(h);  // (B, P*D)
}

double mlp_parameters(double inputs, int64_t cond_width, const std::vector<int64_t>& hidden,
                      int64_t latent, double outputs) {
  const double cond = static_cast<double>(cond_width), z = static_cast<double>(latent);
  double params = 0, in = inputs + cond;
  for (auto h : hidden) params += (in + 1) * static_cast<double>(h), in = static_cast<double>(h);
  params += 2 * (in + 1) * z;
  in = z + cond;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    params += (in + 1) * static_cast<double>(*it);
    in = static_cast<double>(*it);
  }
  return params + (in + 1) * outputs;
}

namespace {

int64_t features_of(const ModelConfig& cfg) {
  int64_t d = 1;
  for (auto s : cfg.input_shape) d *= s;
  return d;
}

class MLPBackbone final : public Backbone {
 public:
  std::string name() const override { return "mlp"; }
  void validate(const ModelConfig& /*cfg*/) const override {}  // any shape; widths checked by
                                                               // ModelConfig::validate
  double parameters(const ModelConfig& cfg, int64_t params_per_feature) const override {
    const double d = static_cast<double>(features_of(cfg));
    return mlp_parameters(d, condition_width(cfg.conditions), cfg.hidden, cfg.latent,
                          d * static_cast<double>(params_per_feature));
  }
  std::shared_ptr<EncoderBase> encoder(const ModelConfig& cfg) const override {
    return std::make_shared<MLPEncoder>(features_of(cfg), condition_width(cfg.conditions),
                                        cfg.hidden, cfg.latent);
  }
  std::shared_ptr<DecoderBase> decoder(const ModelConfig& cfg,
                                       int64_t params_per_feature) const override {
    return std::make_shared<MLPDecoder>(cfg.latent, condition_width(cfg.conditions), cfg.hidden,
                                        params_per_feature * features_of(cfg));
  }
  std::string size_hint() const override { return "smaller --hidden widths or images"; }
};

}  // namespace

std::shared_ptr<const Backbone> mlp_backbone() { return std::make_shared<MLPBackbone>(); }

}  // namespace cvae::models
