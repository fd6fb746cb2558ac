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
#include "data/text.h"
#include "models/classifier.h"
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
  // z (B, Z), c (B, C), x (B, S...) -> x_params (B, P*D). x is the example being
  // explained: autoregressive decoders condition position t on x before t
  // (teacher forcing) and need it; the others ignore it (it may be undefined).
  virtual torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                                const torch::Tensor& x) = 0;
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
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                        const torch::Tensor& x = {}) override;

 private:
  torch::nn::ModuleList layers_;
  torch::nn::Linear out_{nullptr};
};

// Conv encoder (images C x H x W): stride-2 convolutions (kernel 4, padding 1)
// with ReLU, one per entry of `channels`, then [flatten, c] -> the MLP layers
// -> heads. Spatial sizes come from the data (config.h: conv_spatial_sizes).
class ConvEncoder final : public EncoderBase {
 public:
  ConvEncoder(const std::vector<int64_t>& input_shape, const std::vector<int64_t>& channels,
              int64_t cond_width, const std::vector<int64_t>& hidden, int64_t latent);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                  const torch::Tensor& c) override;

 private:
  torch::nn::ModuleList convs_, dense_;
  torch::nn::Linear mu_head_{nullptr}, logvar_head_{nullptr};
};

// Conv decoder, the encoder's mirror: [z, c] -> MLP layers -> Linear to the
// last conv map -> transposed convolutions (kernel 4, stride 2, padding 1;
// output padding chosen so every size matches the encoder's) with ReLU between
// them, each fed [features, c as constant maps] so every layer sees the
// condition. The last one has P * C output channels: x_params (B, P*D), P-major.
class ConvDecoder final : public DecoderBase {
 public:
  ConvDecoder(const std::vector<int64_t>& input_shape, const std::vector<int64_t>& channels,
              int64_t cond_width, const std::vector<int64_t>& hidden, int64_t latent,
              int64_t params_per_feature);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                        const torch::Tensor& x = {}) override;

 private:
  torch::nn::ModuleList dense_, deconvs_;
  std::vector<int64_t> map_shape_;  // (channels, h, w) of the first transposed convolution
};

// Recurrent encoder for token sequences x (B, T) int64 (<pad> = 0 after the
// end): embedding (E) of each token joined with c -> GRU (H) -> the state at
// the last non-pad position, joined with c -> mu and logvar heads.
class RecurrentEncoder final : public EncoderBase {
 public:
  RecurrentEncoder(int64_t vocab, int64_t embedding, int64_t cond_width, int64_t hidden,
                   int64_t latent);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                  const torch::Tensor& c) override;

 private:
  torch::nn::Embedding embed_{nullptr};
  torch::nn::GRU gru_{nullptr};
  torch::nn::Linear mu_head_{nullptr}, logvar_head_{nullptr};
};

// Recurrent decoder (Bowman et al. 2016): the GRU state starts at
// tanh(W [z, c]) and every step's input is [embedding of the previous token,
// z, c] (<bos> before the first), so z and the condition reach every step.
// Logits over the V tokens at each of the T positions come from [state, z, c]
// (so the condition also shifts the word distribution directly): x_params
// (B, T*V), position-major. In training mode, word dropout
// replaces each previous-token input (not <bos>) by <unk> with probability
// word_dropout, drawn from the generator given to set_generator (the trainer's,
// saved with the run, so a resume is exact), else torch's default generator.
class RecurrentDecoder final : public DecoderBase {
 public:
  // The special token ids of data/text.h.
  static constexpr int64_t kPad = data::Vocabulary::kPad, kUnk = data::Vocabulary::kUnk,
                           kBos = data::Vocabulary::kBos, kEos = data::Vocabulary::kEos;
  RecurrentDecoder(int64_t vocab, int64_t embedding, int64_t cond_width, int64_t hidden,
                   int64_t latent, double word_dropout);
  // Teacher forcing: x (B, T) int64 is required.
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                        const torch::Tensor& x) override;
  // Step by step, for generation. zc = [z, c] (B, Z + C).
  torch::Tensor initial_state(const torch::Tensor& zc);  // -> h (1, B, H)
  // prev (B,) int64 token ids, h (1, B, H) -> logits (B, V), and h becomes the new state.
  torch::Tensor step(const torch::Tensor& prev, torch::Tensor& h, const torch::Tensor& zc);
  int64_t vocab() const { return vocab_; }
  // The generator of word dropout (not owned; nullptr = torch's default).
  void set_generator(at::Generator* gen) { gen_ = gen; }

 private:
  int64_t vocab_;
  double word_dropout_;
  at::Generator* gen_ = nullptr;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Linear init_{nullptr}, out_{nullptr};
  torch::nn::GRU gru_{nullptr};
};

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
  // The recurrent decoder of a text model (for step-by-step generation); null otherwise.
  RecurrentDecoder* recurrent_decoder() const { return recurrent_decoder_.get(); }
  bool is_text() const { return recurrent_decoder_ != nullptr; }

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
  std::shared_ptr<RecurrentDecoder> recurrent_decoder_;  // = decoder_ for text models
  std::shared_ptr<PriorNet> prior_;                      // null for the standard normal prior
  std::shared_ptr<ClassifierImpl> classifier_;           // q(y | x); null unless semi-supervised
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
