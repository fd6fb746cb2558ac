// The conv backbone for images C x H x W (--arch conv), and the convolutional
// first layers of an image classifier.
//
// Shape legend: B batch, C_in x H x W per image, C condition width, Z latent,
// P likelihood parameters per pixel.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "models/backbone.h"

namespace cvae::modalities::image {

// Spatial sizes through the conv encoder (kernel 4, stride 2, padding 1 per
// layer): {size, size / 2, size / 4, ...}, layers + 1 values.
std::vector<int64_t> conv_spatial_sizes(int64_t size, size_t layers);

// Conv encoder: stride-2 convolutions (kernel 4, padding 1) with ReLU, one per
// entry of `channels`, then [flatten, c] -> the MLP layers -> heads. Spatial
// sizes come from the data (conv_spatial_sizes).
class ConvEncoder final : public models::EncoderBase {
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
// condition. The last one has P * C_in output channels: x_params (B, P*D), P-major.
class ConvDecoder final : public models::DecoderBase {
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

// --arch conv: ModelConfig::channels per stride-2 convolution, ModelConfig::hidden
// for the dense layers after them.
std::shared_ptr<const models::Backbone> conv_backbone();

// "auto" for images: conv when the images are large enough for `channels`
// (H, W >= 2^channels.size()), else mlp.
std::string auto_arch(const std::vector<int64_t>& input_shape,
                      const std::vector<int64_t>& channels);

// The image classifier's first layers: per entry of `channels`, a 3x3
// convolution (padding 1) + ReLU + 2x2 max-pooling while both sides are at
// least 2, registered on owner as "convs"; x (B, C, H, W) -> (B, F).
models::ClassifierFeatures conv_classifier_features(torch::nn::Module& owner,
                                                    const std::vector<int64_t>& input_shape,
                                                    const std::vector<int64_t>& channels);

}  // namespace cvae::modalities::image
