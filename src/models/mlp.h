// The MLP backbone (--arch mlp): any per-example shape, flattened.
//
// Shape legend: B batch, D features (the flattened example), C condition
// width, Z latent, P likelihood parameters per feature.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "models/backbone.h"

namespace cvae::models {

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

// Weights and biases of an MLP encoder from `inputs` + C features to Z (two
// heads) and its mirrored decoder from Z + C to `outputs`.
double mlp_parameters(double inputs, int64_t cond_width, const std::vector<int64_t>& hidden,
                      int64_t latent, double outputs);

std::shared_ptr<const Backbone> mlp_backbone();

}  // namespace cvae::models
