#include "models/sampling.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "data/dataset.h"

namespace cvae::models {

torch::Tensor decode_mean(CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c) {
  torch::NoGradGuard no_grad;
  auto shape = model.config().input_shape;
  shape.insert(shape.begin(), z.size(0));
  return model.likelihood().mean(model.decode(z, c)).reshape(shape);
}

LatentMixture choose_sampler(const std::string& sampler, const ModelFile& info) {
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
  auto mix = mixture_from_bytes(info.latent_mixture, "model file");
  if (mix.means.size(2) != info.model.latent) {
    throw CheckpointError(fmt::format(
        "the model file's latent mixture has {} dimensions (expected the model's latent size {})",
        mix.means.size(2), info.model.latent));
  }
  return mix;
}

torch::Tensor sample_latent(CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                            double temperature, at::Generator& gen, const LatentMixture& mixture) {
  torch::NoGradGuard no_grad;
  const auto& conds = model.config().conditions;
  if (mixture.defined()) {
    auto index = mixture_row_index(mixture, rows, data::label_names(conds, rows));
    return sample_latent_mixture(mixture, index, n, temperature, gen);
  }
  auto c = data::encode_conditions(conds, rows.repeat_interleave(n, 0));  // (N, C)
  auto [mu_p, logvar_p] = model.prior(c);
  auto eps = torch::randn({c.size(0), model.latent()}, gen);
  return mu_p + temperature * torch::exp(0.5 * logvar_p) * eps;  // (N, Z)
}

torch::Tensor best_of(CVAEImpl& model, const std::function<torch::Tensor()>& draw,
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

torch::Tensor label_log_posterior(CVAEImpl& model, const torch::Tensor& x) {
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

torch::Tensor infer_labels(CVAEImpl& model, const torch::Tensor& x) {
  auto rows = data::parse_labels(model.config().conditions, {"all"});
  return rows.index_select(0, label_log_posterior(model, x).argmax(1));
}

std::pair<torch::Tensor, torch::Tensor> transfer_latent(CVAEImpl& model, const torch::Tensor& x,
                                                        const torch::Tensor& y,
                                                        const torch::Tensor& targets,
                                                        const LatentMixture& mixture) {
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
    auto is = mixture_row_index(mixture, src, data::label_names(conds, src));
    auto it = mixture_row_index(mixture, dst, data::label_names(conds, dst));
    z = move_between_rows(mixture, z, is, it).view({n * t, zdim});
  } else if (model.config().prior == "learned") {
    auto [mu_s, lv_s] = model.prior(data::encode_conditions(conds, src));
    auto [mu_t, lv_t] = model.prior(c);
    z = mu_t + torch::exp(0.5 * (lv_t - lv_s)) * (z - mu_s);
  }
  return {z, c};
}

}  // namespace cvae::models
