#include "modalities/image/conv.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "models/mlp.h"

namespace cvae::modalities::image {

std::vector<int64_t> conv_spatial_sizes(int64_t size, size_t layers) {
  // Each encoder convolution (kernel 4, stride 2, padding 1) gives floor(size / 2).
  std::vector<int64_t> sizes = {size};
  for (size_t i = 0; i < layers; ++i) sizes.push_back(sizes.back() / 2);
  return sizes;
}

ConvEncoder::ConvEncoder(const std::vector<int64_t>& input_shape,
                         const std::vector<int64_t>& channels, int64_t cond_width,
                         const std::vector<int64_t>& hidden, int64_t latent) {
  int64_t in = input_shape[0];
  for (int64_t ch : channels) {
    convs_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, ch, 4).stride(2).padding(1)));
    in = ch;
  }
  const auto hs = conv_spatial_sizes(input_shape[1], channels.size());
  const auto ws = conv_spatial_sizes(input_shape[2], channels.size());
  in = in * hs.back() * ws.back() + cond_width;
  for (int64_t h : hidden) {
    dense_->push_back(torch::nn::Linear(in, h));
    in = h;
  }
  register_module("convs", convs_);
  register_module("dense", dense_);
  mu_head_ = register_module("mu_head", torch::nn::Linear(in, latent));
  logvar_head_ = register_module("logvar_head", torch::nn::Linear(in, latent));
}

std::pair<torch::Tensor, torch::Tensor> ConvEncoder::forward(const torch::Tensor& x,
                                                             const torch::Tensor& c) {
  auto h = x;  // (B, C, H, W)
  for (const auto& conv : *convs_) h = torch::relu(conv->as<torch::nn::Conv2d>()->forward(h));
  h = torch::cat({h.flatten(1), c}, 1);  // (B, C_L * h_L * w_L + C)
  for (const auto& layer : *dense_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  return {mu_head_->forward(h), logvar_head_->forward(h)};  // (B, Z), (B, Z)
}

ConvDecoder::ConvDecoder(const std::vector<int64_t>& input_shape,
                         const std::vector<int64_t>& channels, int64_t cond_width,
                         const std::vector<int64_t>& hidden, int64_t latent,
                         int64_t params_per_feature) {
  const auto hs = conv_spatial_sizes(input_shape[1], channels.size());
  const auto ws = conv_spatial_sizes(input_shape[2], channels.size());
  const size_t layers = channels.size();
  map_shape_ = {channels.back(), hs.back(), ws.back()};
  int64_t in = latent + cond_width;
  for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
    dense_->push_back(torch::nn::Linear(in, *it));
    in = *it;
  }
  dense_->push_back(torch::nn::Linear(in, map_shape_[0] * map_shape_[1] * map_shape_[2]));
  // Transposed convolution i maps size s to 2s + output_padding; the padding
  // (0 or 1) restores the encoder's size before its stride-2 convolution.
  for (size_t i = layers; i-- > 0;) {
    const int64_t cin = channels[i] + cond_width;  // c joins every transposed convolution
    const int64_t cout = i == 0 ? params_per_feature * input_shape[0] : channels[i - 1];
    const int64_t ph = hs[i] - 2 * hs[i + 1], pw = ws[i] - 2 * ws[i + 1];
    deconvs_->push_back(torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(cin, cout, 4)
                                                       .stride(2)
                                                       .padding(1)
                                                       .output_padding({ph, pw})));
  }
  register_module("dense", dense_);
  register_module("deconvs", deconvs_);
}

torch::Tensor ConvDecoder::forward(const torch::Tensor& z, const torch::Tensor& c,
                                   const torch::Tensor& /*x*/) {
  auto h = torch::cat({z, c}, 1);  // (B, Z + C)
  for (const auto& layer : *dense_) h = torch::relu(layer->as<torch::nn::Linear>()->forward(h));
  h = h.view({h.size(0), map_shape_[0], map_shape_[1], map_shape_[2]});
  const size_t n = deconvs_->size();
  auto c_maps = c.view({c.size(0), c.size(1), 1, 1});  // (B, C, 1, 1)
  for (size_t i = 0; i < n; ++i) {
    // The condition as C constant maps beside the features: every layer sees the label.
    h = torch::cat({h, c_maps.expand({-1, -1, h.size(2), h.size(3)})}, 1);
    h = deconvs_[i]->as<torch::nn::ConvTranspose2d>()->forward(h);
    if (i + 1 < n) h = torch::relu(h);
  }
  return h.flatten(1);  // (B, P*C, H, W) -> (B, P*D), P-major
}

namespace {

class ConvBackbone final : public models::Backbone {
 public:
  std::string name() const override { return "conv"; }

  void validate(const ModelConfig& cfg) const override {
    const auto& shape = cfg.input_shape;
    if (shape.size() != 3) {
      throw ConfigError(
          fmt::format("the conv architecture needs images C x H x W (got a {}-dimensional shape)",
                      shape.size()));
    }
    if (cfg.channels.empty() || cfg.channels.size() > 6) {
      throw ConfigError(
          fmt::format("conv channels: expected 1 to 6 layers (got {})", cfg.channels.size()));
    }
    for (auto ch : cfg.channels) {
      if (ch < 1 || ch > 4096) {
        throw ConfigError(
            fmt::format("conv channels out of range (got {} vs expected 1..4096)", ch));
      }
    }
    const int64_t need = int64_t{1} << cfg.channels.size();
    if (shape[1] < need || shape[2] < need) {
      throw ConfigError(fmt::format(
          "images too small for {} stride-2 convolutions (got {}x{} vs expected at least {}x{}); "
          "use fewer --channels",
          cfg.channels.size(), shape[1], shape[2], need, need));
    }
  }

  double parameters(const ModelConfig& cfg, int64_t /*params_per_feature*/) const override {
    double params = 0;
    double in = static_cast<double>(cfg.input_shape[0]);
    for (auto ch : cfg.channels) {
      params += 2 * 16 * in * static_cast<double>(ch);  // encoder and mirrored decoder
      in = static_cast<double>(ch);
    }
    const auto hs = conv_spatial_sizes(cfg.input_shape[1], cfg.channels.size());
    const auto ws = conv_spatial_sizes(cfg.input_shape[2], cfg.channels.size());
    const double flat = in * static_cast<double>(hs.back() * ws.back());
    // The dense layers between the last map and z, as the MLP's (one output per map value).
    return params + models::mlp_parameters(flat, condition_width(cfg.conditions), cfg.hidden,
                                           cfg.latent, flat);
  }

  std::shared_ptr<models::EncoderBase> encoder(const ModelConfig& cfg) const override {
    return std::make_shared<ConvEncoder>(cfg.input_shape, cfg.channels,
                                         condition_width(cfg.conditions), cfg.hidden, cfg.latent);
  }

  std::shared_ptr<models::DecoderBase> decoder(const ModelConfig& cfg,
                                               int64_t params_per_feature) const override {
    return std::make_shared<ConvDecoder>(cfg.input_shape, cfg.channels,
                                         condition_width(cfg.conditions), cfg.hidden, cfg.latent,
                                         params_per_feature);
  }

  std::string describe(const ModelConfig& cfg) const override {
    return fmt::format(" (channels {})", fmt::join(cfg.channels, ","));
  }

  std::string size_hint() const override { return "smaller --hidden widths or images"; }
};

}  // namespace

std::shared_ptr<const models::Backbone> conv_backbone() { return std::make_shared<ConvBackbone>(); }

std::string auto_arch(const std::vector<int64_t>& input_shape,
                      const std::vector<int64_t>& channels) {
  const int64_t need = int64_t{1} << std::min<size_t>(channels.size(), 20);
  const bool image = input_shape.size() == 3 && input_shape[1] >= need && input_shape[2] >= need;
  return image && !channels.empty() ? "conv" : "mlp";
}

models::ClassifierFeatures conv_classifier_features(torch::nn::Module& owner,
                                                    const std::vector<int64_t>& input_shape,
                                                    const std::vector<int64_t>& channels) {
  torch::nn::ModuleList convs;
  std::vector<bool> pool;
  int64_t in = input_shape[0], h = input_shape[1], w = input_shape[2];
  for (int64_t ch : channels) {
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, ch, 3).padding(1)));
    const bool p = h >= 2 && w >= 2;
    pool.push_back(p);
    if (p) h /= 2, w /= 2;
    in = ch;
  }
  owner.register_module("convs", convs);
  models::ClassifierFeatures f;
  f.width = in * h * w;
  f.forward = [convs, pool](const torch::Tensor& x) mutable {
    auto out = x;
    for (size_t i = 0; i < convs->size(); ++i) {
      out = torch::relu(convs[i]->as<torch::nn::Conv2d>()->forward(out));
      if (pool[i]) out = torch::max_pool2d(out, 2);
    }
    return out.flatten(1);
  };
  return f;
}

}  // namespace cvae::modalities::image
