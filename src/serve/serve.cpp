#include "serve/serve.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/png.h"
#include "lite/mlp_sampler.h"

namespace cvae::serve {

torch::Tensor decode_mean(models::CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c) {
  torch::NoGradGuard no_grad;
  auto shape = model.config().input_shape;
  shape.insert(shape.begin(), z.size(0));
  return model.likelihood().mean(model.decode(z, c)).reshape(shape);
}

models::LatentMixture choose_sampler(const std::string& sampler, const models::ModelFile& info) {
  if (sampler != "auto" && sampler != "prior" && sampler != "gmm") {
    throw ConfigError(
        fmt::format("unknown --sampler (got '{}' vs expected auto, prior or gmm)", sampler));
  }
  if (sampler == "prior") return {};
  if (info.latent_mixture.empty()) {
    if (sampler == "auto") return {};
    throw CheckpointError(
        "the model file has no latent mixture (train with --gmm-components > 0, or use --sampler "
        "prior)");
  }
  auto mix = models::mixture_from_bytes(info.latent_mixture, "model file");
  if (mix.means.size(2) != info.model.latent) {
    throw CheckpointError(fmt::format(
        "the model file's latent mixture has {} dimensions (expected the model's latent size {})",
        mix.means.size(2), info.model.latent));
  }
  return mix;
}

torch::Tensor sample_latent(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                            double temperature, at::Generator& gen,
                            const models::LatentMixture& mixture) {
  torch::NoGradGuard no_grad;
  const auto& conds = model.config().conditions;
  if (mixture.defined()) {
    auto index = models::mixture_row_index(mixture, rows, data::label_names(conds, rows));
    return models::sample_latent_mixture(mixture, index, n, temperature, gen);
  }
  auto c = data::encode_conditions(conds, rows.repeat_interleave(n, 0));  // (N, C)
  auto [mu_p, logvar_p] = model.prior(c);
  auto eps = torch::randn({c.size(0), model.latent()}, gen);
  return mu_p + temperature * torch::exp(0.5 * logvar_p) * eps;  // (N, Z)
}

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

torch::Tensor best_of(models::CVAEImpl& model, const std::function<torch::Tensor()>& draw,
                      const torch::Tensor& target_rows, int64_t candidates) {
  if (candidates <= 1) return draw();
  torch::NoGradGuard no_grad;
  auto all = data::parse_labels(model.config().conditions, {"all"});   // (L, K)
  auto match = (target_rows.unsqueeze(1) == all.unsqueeze(0)).all(2);  // (N, L)
  auto column = match.to(torch::kInt64).argmax(1, /*keepdim=*/true);   // (N, 1)
  torch::Tensor best, best_score;
  for (int64_t r = 0; r < candidates; ++r) {
    auto x = draw();
    auto score = label_log_posterior(model, x).gather(1, column).squeeze(1);  // (N,)
    if (!best.defined()) {
      best = x, best_score = score;
      continue;
    }
    auto better = score > best_score;
    auto shape = std::vector<int64_t>(static_cast<size_t>(x.dim()), 1);
    shape[0] = x.size(0);
    best = torch::where(better.view(shape), x, best);
    best_score = torch::where(better, score, best_score);
  }
  return best;
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

torch::Tensor label_log_posterior(models::CVAEImpl& model, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto& conds = model.config().conditions;
  auto rows = data::parse_labels(conds, {"all"});  // (L, K)
  const int64_t n = x.size(0), l = rows.size(0);
  auto neg_elbo = torch::empty({n, l}, torch::kFloat64);
  // Rows in chunks of about 64M likelihood parameters (text: T*V logits per row).
  const int64_t chunk = std::max<int64_t>(
      1, (int64_t{1} << 26) / (model.likelihood().params_per_feature() * model.features()));
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t e = std::min(s + chunk, n);
    auto xs = x.slice(0, s, e);
    for (int64_t j = 0; j < l; ++j) {
      auto c = data::encode_conditions(conds, rows.slice(0, j, j + 1).expand({e - s, -1}));
      auto [mu, logvar] = model.encode(xs, c);
      auto recon = model.likelihood().nll(model.decode(mu, c, xs), xs.flatten(1));
      auto kl = model.kl_per_dim(mu, logvar, c).sum(1);
      neg_elbo.slice(0, s, e).select(1, j).copy_(recon + kl);
    }
  }
  return torch::log_softmax(-neg_elbo, 1);
}

torch::Tensor infer_labels(models::CVAEImpl& model, const torch::Tensor& x) {
  auto rows = data::parse_labels(model.config().conditions, {"all"});
  return rows.index_select(0, label_log_posterior(model, x).argmax(1));
}

std::pair<torch::Tensor, torch::Tensor> transfer_latent(models::CVAEImpl& model,
                                                        const torch::Tensor& x,
                                                        const torch::Tensor& y,
                                                        const torch::Tensor& targets,
                                                        const models::LatentMixture& mixture) {
  torch::NoGradGuard no_grad;
  const auto& conds = model.config().conditions;
  const int64_t n = x.size(0), t = targets.size(0), zdim = model.latent();
  auto cs = data::encode_conditions(conds, y);   // (N, C)
  auto mu = model.encode(x, cs).first;           // (N, Z)
  auto z = mu.repeat_interleave(t, 0);           // (N*T, Z)
  auto src = y.repeat_interleave(t, 0);          // (N*T, K)
  auto dst = targets.repeat({n, 1});             // (N*T, K)
  auto c = data::encode_conditions(conds, dst);  // (N*T, C)
  if (mixture.defined()) {
    auto is = models::mixture_row_index(mixture, src, data::label_names(conds, src));
    auto it = models::mixture_row_index(mixture, dst, data::label_names(conds, dst));
    z = models::move_between_rows(mixture, z, is, it).view({n * t, zdim});
  } else if (model.config().prior == "learned") {
    auto [mu_s, lv_s] = model.prior(data::encode_conditions(conds, src));
    auto [mu_t, lv_t] = model.prior(c);
    z = mu_t + torch::exp(0.5 * (lv_t - lv_s)) * (z - mu_s);
  }
  return {z, c};
}

std::vector<uint8_t> to_bytes(const torch::Tensor& images) {
  auto x = images.detach().to(torch::kFloat32).contiguous();
  std::vector<uint8_t> out(static_cast<size_t>(x.numel()));
  lite::to_bytes(x.data_ptr<float>(), x.numel(), out.data());
  return out;
}

torch::Tensor sample_mlp_images(models::CVAEImpl& model, const data::LabelRows& rows, int64_t n,
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
  data::write_image_grid(path, to_bytes(images), images.size(0), images.size(1), images.size(2),
                         images.size(3), rows, cols);
}

std::vector<std::string> write_idx_pair(const std::string& prefix, const torch::Tensor& images,
                                        const torch::Tensor& labels) {
  auto l = labels.to(torch::kInt64).contiguous();
  const int64_t k = l.dim() == 2 ? l.size(1) : 1;
  std::vector<std::vector<int64_t>> rows;
  for (int64_t i = 0; i < l.size(0); ++i)
    rows.emplace_back(l.data_ptr<int64_t>() + i * k, l.data_ptr<int64_t>() + (i + 1) * k);
  return data::write_idx_samples(prefix, to_bytes(images), images.sizes().vec(), rows);
}

}  // namespace cvae::serve
