// The Mult-VAE backbone for item sets (--arch multvae; Liang et al. 2018,
// "Variational Autoencoders for Collaborative Filtering").
//
// Shape legend: B batch, I items (the model's catalogue), C condition width,
// H hidden width, Z latent.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <utility>
#include <vector>

#include "models/backbone.h"

namespace cvae::modalities::items {

// x (B, I) a user's items (1 = positive) -> L2-normalised rows -> dropout
// (training only; the generator set_generator gives, else torch's default) ->
// [x, c] -> tanh layers of `hidden` -> mu and logvar heads (B, Z).
class MultEncoder final : public models::EncoderBase {
 public:
  MultEncoder(int64_t items, int64_t cond_width, const std::vector<int64_t>& hidden, int64_t latent,
              double dropout);
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                  const torch::Tensor& c) override;
  void set_generator(at::Generator* gen) override { gen_ = gen; }

 private:
  double dropout_;
  at::Generator* gen_ = nullptr;
  torch::nn::ModuleList layers_;
  torch::nn::Linear mu_head_{nullptr}, logvar_head_{nullptr};
};

// [z, c] -> tanh layers of reversed `hidden` -> item logits (B, I). `allowed`
// (L, I), 1 where an item may be recommended under label l of the first
// condition (items_data.h, allowed_items): logits of items the
// condition rules out are -inf, which the multinomial likelihood reads as
// outside the example (models/likelihood.h). Undefined: every item allowed.
class MultDecoder final : public models::DecoderBase {
 public:
  MultDecoder(int64_t items, int64_t cond_width, const std::vector<int64_t>& hidden, int64_t latent,
              torch::Tensor allowed);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& c,
                        const torch::Tensor& x) override;
  // The logits before the condition's mask.
  torch::Tensor unmasked(const torch::Tensor& z, const torch::Tensor& c);

 private:
  torch::Tensor allowed_;  // not a parameter: rebuilt from the model's catalogue
  int64_t first_labels_ = 0;
  torch::nn::ModuleList layers_;
};

// The share of input items dropped in training (Liang et al.: 0.5).
inline constexpr double kInputDropout = 0.5;

// --arch multvae: ModelConfig::vocabulary is the catalogue (one entry per item,
// modalities/items/lite/catalogue.h), hidden the encoder's widths (the decoder
// mirrors them); the first condition's labels are "any" and the genres.
std::shared_ptr<const models::Backbone> multvae_backbone();

}  // namespace cvae::modalities::items
