#include "models/cvae_model.h"

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::models {

MLPEncoder::MLPEncoder(int64_t features, int64_t cond_width, const std::vector<int64_t>& hidden,
                       int64_t latent) {
  int64_t in = features + cond_width;
  for (int64_t h : hidden) {
    layers_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  register_module("layers", layers_);
  mu_head_ = register_module("mu_head", torch::nn::Linear(in, latent));
  logvar_head_ = register_module("logvar_head", torch::nn::Linear(in, latent));
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
  register_module("layers", layers_);
  out_ = register_module("out", torch::nn::Linear(in, outputs));
}

torch::Tensor MLPDecoder::forward(const torch::Tensor& z, const torch::Tensor& c) {
  auto h = torch::cat({z, c}, 1);  // (B, Z + C)
  for (const auto& layer : *layers_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return out_->forward(h);  // (B, P*D)
}

CVAEImpl::CVAEImpl(ModelConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  features_ = 1;
  for (auto d : cfg_.input_shape) features_ *= d;
  likelihood_ = make_likelihood(cfg_.likelihood);
  const int64_t cond = condition_width(cfg_.conditions);
  const int64_t outputs = likelihood_->params_per_feature() * features_;
  encoder_ = register_module(
      "encoder", std::make_shared<MLPEncoder>(features_, cond, cfg_.hidden, cfg_.latent));
  decoder_ = register_module("decoder",
                             std::make_shared<MLPDecoder>(cfg_.latent, cond, cfg_.hidden, outputs));
}

std::pair<torch::Tensor, torch::Tensor> CVAEImpl::encode(const torch::Tensor& x,
                                                         const torch::Tensor& c) {
  auto [mu, logvar] = encoder_->forward(x, c);
  // Clamping keeps exp(logvar) finite early in training (a common NaN source).
  return {mu, torch::clamp(logvar, cfg_.logvar_min, cfg_.logvar_max)};
}

torch::Tensor CVAEImpl::decode(const torch::Tensor& z, const torch::Tensor& c) {
  return decoder_->forward(z, c);
}

torch::Tensor CVAEImpl::reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                                       const torch::Tensor& eps) {
  return mu + torch::exp(0.5 * logvar) * eps;
}

CVAEImpl::Output CVAEImpl::forward(const torch::Tensor& x, const torch::Tensor& c,
                                   const torch::Tensor& eps) {
  Output out;
  std::tie(out.mu, out.logvar) = encode(x, c);
  out.z = reparameterize(out.mu, out.logvar, eps);
  out.x_params = decode(out.z, c);
  return out;
}

torch::Tensor kl_standard_normal_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return 0.5 * (mu.pow(2) + torch::exp(logvar) - 1.0 - logvar);
}

torch::Tensor kl_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return kl_standard_normal_per_dim(mu, logvar).sum(1);
}

LossTerms elbo_loss(CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                    const torch::Tensor& eps, double beta) {
  auto out = model.forward(x, c, eps);
  LossTerms t;
  t.loss_recon = model.likelihood().nll(out.x_params, x.flatten(1));  // (B,)
  t.loss_kl = kl_standard_normal(out.mu, out.logvar);                 // (B,)
  t.loss = (t.loss_recon + beta * t.loss_kl).mean();                  // mean over the batch
  return t;
}

}  // namespace cvae::models
