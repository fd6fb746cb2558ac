// The conditional VAE: encoder q(z | x, c), decoder p(x | z, c), loss = -ELBO.
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
#include "models/likelihood.h"

namespace cvae::models {

// Encoder backbone: (x, c) -> (mu, logvar) before clamping.
class EncoderBase : public torch::nn::Module {
 public:
  // x (B, S...), c (B, C) -> mu (B, Z), logvar (B, Z)
  virtual std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                          const torch::Tensor& c) = 0;
};

// Decoder backbone: (z, c) -> likelihood parameters.
class DecoderBase : public torch::nn::Module {
 public:
  // z (B, Z), c (B, C) -> x_params (B, P*D)
  virtual torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c) = 0;
};

// MLP encoder: [flatten(x), c] -> Linear+ReLU per hidden width -> mu_head, logvar_head.
class MLPEncoder final : public EncoderBase {
 public:
  MLPEncoder(int64_t features, int64_t cond_width, const std::vector<int64_t>& hidden,
             int64_t latent);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                  const torch::Tensor& c) override;

 private:
  torch::nn::ModuleList layers_;
  torch::nn::Linear mu_head_{nullptr}, logvar_head_{nullptr};
};

// MLP decoder: [z, c] -> Linear+ReLU per hidden width (reversed) -> out.
class MLPDecoder final : public DecoderBase {
 public:
  MLPDecoder(int64_t latent, int64_t cond_width, const std::vector<int64_t>& hidden,
             int64_t outputs);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c) override;

 private:
  torch::nn::ModuleList layers_;
  torch::nn::Linear out_{nullptr};
};

class CVAEImpl : public torch::nn::Module {
 public:
  explicit CVAEImpl(ModelConfig cfg);

  struct Output {
    torch::Tensor mu, logvar, z, x_params;
  };

  // x (B, S...), c (B, C) -> mu (B, Z), logvar (B, Z) clamped to [logvar_min, logvar_max]
  std::pair<torch::Tensor, torch::Tensor> encode(const torch::Tensor& x, const torch::Tensor& c);
  // z (B, Z), c (B, C) -> x_params (B, P*D)
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& c);
  // z = mu + exp(0.5 * logvar) * eps (Kingma & Welling 2014, eq. 10); all (B, Z)
  static torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& logvar,
                                      const torch::Tensor& eps);
  // eps (B, Z) is the reparameterisation noise, drawn by the caller.
  Output forward(const torch::Tensor& x, const torch::Tensor& c, const torch::Tensor& eps);

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
};
TORCH_MODULE(CVAE);

// KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over Z:
//   0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)   (Kingma & Welling 2014, appendix B)
// mu, logvar (B, Z) -> (B,)
torch::Tensor kl_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar);

// The same per latent dimension: (B, Z) -> (B, Z)
torch::Tensor kl_standard_normal_per_dim(const torch::Tensor& mu, const torch::Tensor& logvar);

struct LossTerms {
  torch::Tensor loss;        // scalar: mean over the batch of loss_recon + beta * loss_kl
  torch::Tensor loss_recon;  // (B,): -log p(x | z, c), summed over the D features
  torch::Tensor loss_kl;     // (B,): KL(q(z | x, c) || p(z)), summed over the Z dimensions
};

// -ELBO with a beta weight on the KL term, nats per example.
// Reduction: sum over features and latent dimensions, mean over the batch.
LossTerms elbo_loss(CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                    const torch::Tensor& eps, double beta);

}  // namespace cvae::models
