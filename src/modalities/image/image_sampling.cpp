#include "modalities/image/image_sampling.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "io/idx.h"
#include "io/png.h"
#include "lite/mlp_sampler.h"
#include "models/sampling.h"

namespace cvae::modalities::image {

using models::best_of;
using models::decode_mean;
using models::sample_latent;
using models::transfer_latent;

torch::Tensor sample(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                     double temperature, at::Generator& gen, bool sample_pixels,
                     const models::LatentMixture& mixture, int64_t candidates) {
  torch::NoGradGuard no_grad;
  const int64_t total = rows.size(0) * n;
  auto rows_n = rows.repeat_interleave(n, 0);                           // (N, K)
  auto c = data::encode_conditions(model.config().conditions, rows_n);  // (N, C)
  auto draw = [&] {
    auto z = sample_latent(model, rows, n, temperature, gen, mixture);  // (N, Z)
    if (!sample_pixels) return decode_mean(model, z, c);
    auto shape = model.config().input_shape;
    shape.insert(shape.begin(), total);
    return model.likelihood().sample(model.decode(z, c), gen).reshape(shape);
  };
  return best_of(model, draw, rows_n, candidates);
}

torch::Tensor transfer(models::CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& y,
                       const torch::Tensor& targets, const models::LatentMixture& mixture) {
  const int64_t n = x.size(0), t = targets.size(0);
  auto [z, c] = transfer_latent(model, x, y, targets, mixture);
  auto out = decode_mean(model, z, c);  // (N*T, S...)
  auto shape = out.sizes().vec();
  shape[0] = t;
  shape.insert(shape.begin(), n);
  return out.reshape(shape);
}

std::vector<uint8_t> to_bytes(const torch::Tensor& images) {
  auto x = images.detach().to(torch::kFloat32).contiguous();
  std::vector<uint8_t> out(static_cast<size_t>(x.numel()));
  lite::to_bytes(x.data_ptr<float>(), x.numel(), out.data());
  return out;
}

torch::Tensor sample_mlp_images(models::CVAEImpl& model, const io::LabelRows& rows, int64_t n,
                                double temperature, uint64_t seed) {
  const ModelConfig& cfg = model.config();
  auto params = model.named_parameters();
  const auto dec = lite::mlp_decoder(
      cfg, [&](const std::string& name, const std::vector<int64_t>& shape) -> const float* {
        const torch::Tensor* p = params.find(name);
        if (!p || p->sizes().vec() != shape || p->scalar_type() != torch::kFloat32 ||
            !p->is_contiguous())
          throw CheckpointError(fmt::format("the model has no parameter '{}' of shape {}", name,
                                            fmt::join(shape, "x")));
        return p->data_ptr<float>();
      });
  auto means = lite::sample_means(dec, rows, n, temperature, seed);
  auto shape = cfg.input_shape;
  shape.insert(shape.begin(), static_cast<int64_t>(rows.size()) * n);
  return torch::from_blob(means.data(), shape, torch::kFloat32).clone();
}

void write_png_grid(const std::string& path, const torch::Tensor& images, int64_t rows,
                    int64_t cols) {
  if (images.dim() != 4) {
    throw ConfigError(
        fmt::format("PNG output needs images of shape C x H x W (got {} dims)", images.dim() - 1));
  }
  io::write_image_grid(path, to_bytes(images), images.size(0), images.size(1), images.size(2),
                         images.size(3), rows, cols);
}

std::vector<std::string> write_idx_pair(const std::string& prefix, const torch::Tensor& images,
                                        const torch::Tensor& labels) {
  auto l = labels.to(torch::kInt64).contiguous();
  const int64_t k = l.dim() == 2 ? l.size(1) : 1;
  std::vector<std::vector<int64_t>> rows;
  for (int64_t i = 0; i < l.size(0); ++i)
    rows.emplace_back(l.data_ptr<int64_t>() + i * k, l.data_ptr<int64_t>() + (i + 1) * k);
  return io::write_idx_samples(prefix, to_bytes(images), images.sizes().vec(), rows);
}

}  // namespace cvae::modalities::image
