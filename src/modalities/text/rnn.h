// The recurrent backbone for token sequences (--arch rnn), Bowman et al. 2016.
//
// Shape legend: B batch, T positions, V vocabulary, E embedding, H GRU state,
// C condition width, Z latent.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "modalities/text/tokens.h"
#include "models/backbone.h"
#include "models/cvae_model.h"

namespace cvae::modalities::text {

// Recurrent encoder for token sequences x (B, T) int64 (<pad> = 0 after the
// end): embedding (E) of each token joined with c -> GRU (H) -> the state at
// the last non-pad position, joined with c -> mu and logvar heads.
class RecurrentEncoder final : public models::EncoderBase {
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

// Recurrent decoder: the GRU state starts at tanh(W [z, c]) and every step's
// input is [embedding of the previous token, z, c] (<bos> before the first),
// so z and the condition reach every step. Logits over the V tokens at each
// of the T positions come from [state, z, c] (so the condition also shifts the
// word distribution directly): x_params (B, T*V), position-major. In training
// mode, word dropout replaces each previous-token input (not <bos>) by <unk>
// with probability word_dropout, drawn from the generator given to
// set_generator (the trainer's, saved with the run, so a resume is exact),
// else torch's default generator.
class RecurrentDecoder final : public models::DecoderBase {
 public:
  // The special token ids of modalities/text/tokens.h.
  static constexpr int64_t kPad = Vocabulary::kPad, kUnk = Vocabulary::kUnk,
                           kBos = Vocabulary::kBos, kEos = Vocabulary::kEos;
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
  void set_generator(at::Generator* gen) override { gen_ = gen; }

 private:
  int64_t vocab_;
  double word_dropout_;
  at::Generator* gen_ = nullptr;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Linear init_{nullptr}, out_{nullptr};
  torch::nn::GRU gru_{nullptr};
};

// The recurrent decoder of a text model; ConfigError when it has none.
RecurrentDecoder& recurrent_decoder(models::CVAEImpl& model);

// --arch rnn: ModelConfig::vocabulary, embedding, word_dropout and one hidden
// width (the GRU state).
std::shared_ptr<const models::Backbone> rnn_backbone();

}  // namespace cvae::modalities::text
