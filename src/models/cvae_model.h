// The conditional VAE: encoder q(z | x, c), decoder p(x | z, c), loss = -ELBO.
// The encoder and decoder are the backbone that ModelConfig::arch names
// (models/backbone.h); the model never asks what the data is.
//
// Shape legend:
//   B batch, S... per-example shape (e.g. 1x28x28), D = prod(S) features,
//   C condition width (concatenated one-hots), Z latent size,
//   P likelihood parameters per feature (1 for Bernoulli).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <utility>

#include "cvae/config.h"
#include "models/backbone.h"
#include "models/classifier.h"
#include "models/likelihood.h"

namespace cvae::models {

// Learned conditional prior p(z | c) = N(mu_p(c), exp(logvar_p(c))) (Sohn et al.
// 2015): c -> Linear(C, 128) + ReLU -> mu and logvar heads.
class PriorNet final : public torch::nn::Module {
 public:
  PriorNet(int64_t cond_width, int64_t latent);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& c);

 private:
  torch::nn::Linear hidden_{nullptr}, mu_head_{nullptr}, logvar_head_{nullptr};
};

class CVAEImpl : public torch::nn::Module {
 public:
  // cfg is resolved and validated first (resolve_model_config): config() holds
  // the modality, backbone and likelihood by name.
  explicit CVAEImpl(ModelConfig cfg);

  struct Output {
    torch::Tensor mu, logvar, z, x_params;
  };

  // x (B, S...), c (B, C) -> mu (B, Z), logvar (B, Z) clamped to [logvar_min, logvar_max]
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& c);
  // z (B, Z), c (B, C) -> x_params (B, P*D). x (B, S...): the example for
  // autoregressive (text) decoders, which need it; image decoders ignore it.
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& c, const torch::Tensor& x = {});
  // The prior p(z | c): c (B, C) -> mu (B, Z), logvar (B, Z); zeros for N(0, I).
  std::pair<torch::Tensor, torch::Tensor> prior(const torch::Tensor& c);
  // KL(q(z | x, c) || p(z | c)) per latent dimension: (B, Z) each -> (B, Z)
  torch::Tensor kl_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar,
                           const torch::Tensor& c);
  // z = mu + exp(0.5 * logvar) * eps (Kingma & Welling 2014, eq. 10); all (B, Z)
  static torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                                      const torch::Tensor& eps);
  // eps (B, Z) is the reparameterisation noise, drawn by the caller.
  Output forward(const torch::Tensor& x, const torch::Tensor& c, const torch::Tensor& eps);

  // q(y | x) of a semi-supervised model (config().classifier): x (B, S...) -> logits (B, L)
  torch::Tensor classify(const torch::Tensor& x);
  ClassifierImpl& classifier();  // ConfigError unless semi-supervised
  bool has_classifier() const { return classifier_ != nullptr; }
  // The backbone's decoder (a modality's step-by-step generation finds its own
  // decoder type here).
  DecoderBase& decoder() { return *decoder_; }
  // The generator of any randomness the decoder draws in training (not owned;
  // DecoderBase::set_generator).
  void set_generator(at::Generator* gen) {
    encoder_->set_generator(gen);
    decoder_->set_generator(gen);
  }

  const ModelConfig& config() const { return cfg_; }
  const Likelihood& likelihood() const { return *likelihood_; }
  int64_t features() const { return features_; }  // D
  int64_t latent() const { return cfg_.latent; }  // Z

 private:
  ModelConfig cfg_;
  int64_t features_ = 0;
  std::unique_ptr<Likelihood> likelihood_;
  std::shared_ptr<EncoderBase> encoder_;
  std::shared_ptr<DecoderBase> decoder_;
  std::shared_ptr<PriorNet> prior_;             // null for the standard normal prior
  std::shared_ptr<ClassifierImpl> classifier_;  // q(y | x); null unless semi-supervised
};
TORCH_MODULE(CVAE);

// KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over Z:
//   0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)   (Kingma & Welling 2014, appendix B)
// mu, logvar (B, Z) -> (B,)
torch::Tensor kl_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar);

// The same per latent dimension: (B, Z) -> (B, Z)
torch::Tensor kl_standard_normal_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar);

// KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p))) per dimension, closed form:
//   0.5 * (logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1)
// all (B, Z) -> (B, Z)
torch::Tensor kl_normal_per_dim(const torch::Tensor& mu_q, const torch::Tensor& logvar_q,
                                const torch::Tensor& mu_p, const torch::Tensor& logvar_p);

struct LossTerms {
  torch::Tensor loss;        // scalar: the training objective (see elbo_loss)
  torch::Tensor loss_recon;  // (B,): -log p(x | z, c), summed over the D features
  torch::Tensor loss_kl;     // (B,): KL(q(z | x, c) || p(z | c)), summed over the Z dimensions
  // elbo_loss only (undefined from m2_loss): the posterior and its KL per dimension,
  // so evaluation need not run the encoder again. mu, logvar, kl_per_dim (B, Z).
  torch::Tensor mu, logvar, kl_per_dim;
};

// Active units (Burda et al. 2016, sec. 5.2): dimensions whose posterior mean
// varies across the data, Cov_x(E_q[z_d]) > threshold. mu (N, Z) -> count.
int64_t active_units(const torch::Tensor& mu, double threshold = 0.01);

// -ELBO with a beta weight on the KL term, nats per example.
// Reduction: sum over features and latent dimensions, mean over the batch:
//   loss = mean_b(loss_recon) + beta * sum_d max(free_bits, mean_b KL_bd)
// With free_bits = 0 this is mean_b(loss_recon + beta * loss_kl). Free bits
// (Kingma et al. 2016) stop the optimiser from pushing a dimension's KL,
// averaged over the batch, below free_bits nats; loss_kl stays the true KL.
LossTerms elbo_loss(CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                    const torch::Tensor& eps, double beta, double free_bits = 0.0);

// argmax_y q(y | x) of a semi-supervised model, in batches, eval mode: x (N, S...) -> (N,)
torch::Tensor predict_with(CVAEImpl& model, const torch::Tensor& x, int64_t batch = 512);

// The semi-supervised objective (Kingma et al. 2014, M2), nats per example:
//   labelled (x, y):  -ELBO(x, y) + alpha * CE(q(y | x), y)
//   unlabelled x:     sum_y q(y | x) * -ELBO(x, y) - H(q(y | x))
// loss = mean over the labelled batch + mean over the unlabelled batch.
// x_l (B_l, S...), y_l (B_l,) int64 label indices; x_u (U, S...). Either batch may
// be empty. The reparameterisation noise is drawn from gen. loss_recon and
// loss_kl hold the labelled terms then, per unlabelled example, their
// expectation under q(y | x).
LossTerms m2_loss(CVAEImpl& model, const torch::Tensor& x_l, const torch::Tensor& y_l,
                  const torch::Tensor& x_u, at::Generator& gen, double beta, double alpha);

}  // namespace cvae::models
