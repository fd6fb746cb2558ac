#include "eval/metrics.h"

#include <cmath>

namespace cvae::eval {

torch::Tensor log_normal(const torch::Tensor& z, const torch::Tensor& mu,
                         const torch::Tensor& logvar) {
  static const double kLog2Pi = std::log(2.0 * M_PI);
  return (-0.5 * ((z - mu).pow(2) * torch::exp(-logvar) + logvar + kLog2Pi)).sum(-1);
}

torch::Tensor iwae_nll(models::CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                       int64_t k, at::Generator& gen, int64_t max_rows) {
  torch::NoGradGuard no_grad;
  const int64_t b = x.size(0), z_dim = model.latent();
  auto [mu, logvar] = model.encode(x, c);  // (B, Z)
  auto std = torch::exp(0.5 * logvar);
  auto x_flat = x.flatten(1);  // (B, D)
  const int64_t chunk = std::max<int64_t>(1, std::min(k, max_rows / std::max<int64_t>(b, 1)));
  auto [mu_p, logvar_p] = model.prior(c);  // (B, Z)
  torch::Tensor lse;                       // running log-sum-exp of the log weights, (B,)
  for (int64_t done = 0; done < k; done += chunk) {
    const int64_t m = std::min(chunk, k - done);
    auto eps = torch::randn({m, b, z_dim}, gen);
    auto z = mu.unsqueeze(0) + std.unsqueeze(0) * eps;                               // (m, B, Z)
    auto log_q = log_normal(z, mu.unsqueeze(0), logvar.unsqueeze(0));                // (m, B)
    auto log_pz = log_normal(z, mu_p.unsqueeze(0), logvar_p.unsqueeze(0));           // (m, B)
    auto x_rep = x_flat.repeat({m, 1});                                              // (m*B, D)
    auto params = model.decode(z.reshape({m * b, z_dim}), c.repeat({m, 1}), x_rep);  // (m*B, P*D)
    auto log_px = -model.likelihood().nll(params, x_rep).view({m, b});               // (m, B)
    auto part = torch::logsumexp(log_px + log_pz - log_q, 0);                        // (B,)
    lse = lse.defined() ? torch::logaddexp(lse, part) : part;
  }
  return -(lse - std::log(static_cast<double>(k)));
}

}  // namespace cvae::eval
