#include "models/latent_density.h"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::models {
namespace {

constexpr double kCovarianceFloor = 1e-4;

// log N(z; means_m, chol_m chol_m^T) for every point and component:
// z (N, Z), means (M, Z), chol (M, Z, Z) -> (N, M)
torch::Tensor component_log_density(const torch::Tensor& z, const torch::Tensor& means,
                                    const torch::Tensor& chol) {
  static const double kLog2Pi = std::log(2.0 * M_PI);
  auto diff = (z.unsqueeze(0) - means.unsqueeze(1)).transpose(1, 2);  // (M, Z, N)
  auto y = at::linalg_solve_triangular(chol, diff, /*upper=*/false);  // (M, Z, N)
  auto maha = y.pow(2).sum(1);                                        // (M, N)
  auto logdet = 2.0 * chol.diagonal(0, -2, -1).log().sum(-1);         // (M,)
  return (-0.5 * (maha + logdet.unsqueeze(1) + static_cast<double>(z.size(1)) * kLog2Pi)).t();
}

torch::Tensor cholesky_with_floor(torch::Tensor cov) {
  const int64_t z = cov.size(-1);
  auto eye = torch::eye(z, cov.options());
  double floor = kCovarianceFloor;
  for (int attempt = 0; attempt < 8; ++attempt, floor *= 10) {
    try {
      return at::linalg_cholesky(cov + floor * eye);
    } catch (const c10::Error&) {
      // not positive definite at this floor: raise it
    }
  }
  throw NumericError("latent mixture: a covariance is not positive definite");
}

struct Fit {
  torch::Tensor weights, means, chol;  // (M,), (M, Z), (M, Z, Z)
};

// k-means++ seeding (Arthur & Vassilvitskii 2007) and a few Lloyd iterations:
// EM started from random points can stay stuck with two components in one
// cluster. x (N, Z) -> (M, Z) centres.
torch::Tensor kmeans_centres(const torch::Tensor& x, int64_t m, at::Generator& gen) {
  const int64_t n = x.size(0);
  auto first = torch::randint(n, {1}, gen, torch::kInt64);
  auto centres = x.index_select(0, first);
  auto d2 = (x - centres).pow(2).sum(1);  // (N,) squared distance to the nearest centre
  for (int64_t k = 1; k < m; ++k) {
    auto w = d2.sum().item<double>() > 0 ? d2 : torch::ones_like(d2);
    auto next = torch::multinomial(w, 1, /*replacement=*/false, gen);
    auto c = x.index_select(0, next);
    centres = torch::cat({centres, c}, 0);
    d2 = torch::minimum(d2, (x - c).pow(2).sum(1));
  }
  for (int it = 0; it < 10; ++it) {
    auto assign = torch::cdist(x, centres).argmin(1);  // (N,)
    auto sums = torch::zeros_like(centres).index_add_(0, assign, x);
    auto counts =
        torch::zeros({m}, x.options()).index_add_(0, assign, torch::ones({n}, x.options()));
    auto filled = counts > 0;
    centres = torch::where(filled.unsqueeze(1), sums / counts.clamp_min(1).unsqueeze(1), centres);
  }
  return centres;
}

Fit fit_one(const torch::Tensor& x, int64_t m, at::Generator& gen, int64_t max_iters) {
  const int64_t n = x.size(0);
  // Start: k-means centres as means, the data covariance for each component.
  auto means = kmeans_centres(x, m, gen);
  auto centred = x - x.mean(0);
  auto cov = centred.t().mm(centred) / static_cast<double>(std::max<int64_t>(n - 1, 1));
  auto chol = cholesky_with_floor(cov).unsqueeze(0).repeat({m, 1, 1});
  auto weights = torch::full({m}, 1.0 / static_cast<double>(m), x.options());
  double prev = -std::numeric_limits<double>::infinity();
  for (int64_t it = 0; it < max_iters; ++it) {
    auto logp = component_log_density(x, means, chol) + weights.log().unsqueeze(0);  // (N, M)
    auto ll = torch::logsumexp(logp, 1, /*keepdim=*/true);                           // (N, 1)
    auto resp = torch::exp(logp - ll);                                               // (N, M)
    auto nk = resp.sum(0) + 1e-10;                                                   // (M,)
    weights = nk / nk.sum();
    means = resp.t().mm(x) / nk.unsqueeze(1);                             // (M, Z)
    auto diff = x.unsqueeze(0) - means.unsqueeze(1);                      // (M, N, Z)
    auto weighted = diff * resp.t().unsqueeze(-1);                        // (M, N, Z)
    auto covs = weighted.transpose(1, 2).bmm(diff) / nk.view({m, 1, 1});  // (M, Z, Z)
    chol = cholesky_with_floor(covs);
    const double mean_ll = ll.mean().item<double>();
    if (std::abs(mean_ll - prev) < 1e-7 * std::max(1.0, std::abs(mean_ll))) break;
    prev = mean_ll;
  }
  return {weights, means, chol};
}

}  // namespace

LatentMixture fit_latent_mixture(const torch::Tensor& z, const torch::Tensor& y, int64_t components,
                                 uint64_t seed, int64_t max_iters) {
  torch::NoGradGuard no_grad;
  if (components < 1) throw ConfigError("latent mixture: at least one component is needed");
  auto zd = z.to(torch::kFloat64).contiguous();
  const int64_t zdim = zd.size(1);
  // Group points by their label row.
  std::map<std::vector<int64_t>, std::vector<int64_t>> groups;
  auto yc = y.to(torch::kInt64).contiguous();
  const int64_t k = yc.size(1);
  const int64_t* yp = yc.data_ptr<int64_t>();
  for (int64_t i = 0; i < yc.size(0); ++i)
    groups[std::vector<int64_t>(yp + i * k, yp + (i + 1) * k)].push_back(i);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<torch::Tensor> rows, weights, means, chols;
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  for (const auto& [row, idx] : groups) {
    const int64_t n = static_cast<int64_t>(idx.size());
    if (n < 2) continue;
    const int64_t m = std::min(components, n);
    Fit f = fit_one(zd.index_select(0, torch::tensor(idx, torch::kInt64)), m, gen, max_iters);
    // Pad to `components` with zero-weight unit components so rows stack.
    auto w = torch::zeros({components}, opts);
    auto mu = torch::zeros({components, zdim}, opts);
    auto l = torch::eye(zdim, opts).unsqueeze(0).repeat({components, 1, 1});
    w.slice(0, 0, m).copy_(f.weights);
    mu.slice(0, 0, m).copy_(f.means);
    l.slice(0, 0, m).copy_(f.chol);
    rows.push_back(torch::tensor(row, torch::kInt64));
    weights.push_back(w);
    means.push_back(mu);
    chols.push_back(l);
  }
  LatentMixture mix;
  if (rows.empty()) return mix;
  mix.rows = torch::stack(rows);
  mix.weights = torch::stack(weights);
  mix.means = torch::stack(means);
  mix.chol = torch::stack(chols);
  return mix;
}

double mixture_mean_log_likelihood(const LatentMixture& mix, int64_t r, const torch::Tensor& z) {
  torch::NoGradGuard no_grad;
  auto w = mix.weights[r];
  auto used = w > 0;
  auto logp = component_log_density(z.to(torch::kFloat64), mix.means[r].index({used}),
                                    mix.chol[r].index({used})) +
              w.index({used}).log().unsqueeze(0);
  return torch::logsumexp(logp, 1).mean().item<double>();
}

torch::Tensor mixture_row_index(const LatentMixture& mix, const torch::Tensor& rows,
                                const std::vector<std::string>& label_names) {
  std::map<std::vector<int64_t>, int64_t> fitted;
  if (mix.defined()) {
    auto r = mix.rows.contiguous();
    const int64_t k = r.size(1);
    for (int64_t i = 0; i < r.size(0); ++i) {
      const int64_t* p = r.data_ptr<int64_t>() + i * k;
      fitted[std::vector<int64_t>(p, p + k)] = i;
    }
  }
  auto q = rows.to(torch::kInt64).contiguous();
  const int64_t k = q.size(1);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < q.size(0); ++i) {
    const int64_t* p = q.data_ptr<int64_t>() + i * k;
    auto it = fitted.find(std::vector<int64_t>(p, p + k));
    if (it == fitted.end()) {
      throw ConfigError(fmt::format(
          "the model's latent mixture has no component for label '{}' (it had fewer than 2 "
          "training examples); use --sampler prior",
          i < static_cast<int64_t>(label_names.size()) ? label_names[i] : "?"));
    }
    out.push_back(it->second);
  }
  return torch::tensor(out, torch::kInt64);
}

torch::Tensor sample_latent_mixture(const LatentMixture& mix, const torch::Tensor& row_index,
                                    int64_t n, double temperature, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const int64_t zdim = mix.means.size(2);
  std::vector<torch::Tensor> parts;
  for (int64_t q = 0; q < row_index.size(0); ++q) {
    const int64_t r = row_index[q].item<int64_t>();
    auto comp = torch::multinomial(mix.weights[r], n, /*replacement=*/true, gen);  // (n,)
    auto mu = mix.means[r].index_select(0, comp);                                  // (n, Z)
    auto l = mix.chol[r].index_select(0, comp);                                    // (n, Z, Z)
    auto eps = torch::randn({n, zdim, 1}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    parts.push_back(mu + temperature * l.bmm(eps).squeeze(2));
  }
  return torch::cat(parts, 0).to(torch::kFloat32);
}

std::pair<torch::Tensor, torch::Tensor> mixture_moments(const LatentMixture& mix) {
  torch::NoGradGuard no_grad;
  auto w = mix.weights.unsqueeze(-1);                               // (R, M, 1)
  auto mean = (w * mix.means).sum(1);                               // (R, Z)
  auto second = mix.chol.matmul(mix.chol.transpose(-1, -2)) +       // S_m
                mix.means.unsqueeze(-1) * mix.means.unsqueeze(-2);  // + mu mu^T
  auto cov = (w.unsqueeze(-1) * second).sum(1) - mean.unsqueeze(-1) * mean.unsqueeze(-2);
  return {mean, cholesky_with_floor(cov)};
}

torch::Tensor move_between_rows(const LatentMixture& mix, const torch::Tensor& z,
                                const torch::Tensor& src, const torch::Tensor& dst) {
  torch::NoGradGuard no_grad;
  auto [means, chol] = mixture_moments(mix);  // (R, Z), (R, Z, Z)
  auto dev = (z.to(torch::kFloat64) - means.index_select(0, src)).unsqueeze(2);  // (N, Z, 1)
  auto white = at::linalg_solve_triangular(chol.index_select(0, src), dev, /*upper=*/false);
  auto moved = means.index_select(0, dst) + chol.index_select(0, dst).bmm(white).squeeze(2);
  return moved.to(torch::kFloat32);
}

std::string mixture_to_bytes(const LatentMixture& mix) {
  torch::serialize::OutputArchive archive;
  archive.write("rows", mix.rows);
  archive.write("weights", mix.weights);
  archive.write("means", mix.means);
  archive.write("chol", mix.chol);
  std::ostringstream os(std::ios::binary);
  archive.save_to(os);
  return os.str();
}

LatentMixture mixture_from_bytes(const std::string& bytes, const std::string& what) {
  LatentMixture mix;
  try {
    torch::serialize::InputArchive archive;
    std::istringstream is(bytes, std::ios::binary);
    archive.load_from(is);
    archive.read("rows", mix.rows);
    archive.read("weights", mix.weights);
    archive.read("means", mix.means);
    archive.read("chol", mix.chol);
  } catch (const c10::Error& e) {
    throw CheckpointError(
        fmt::format("{}: latent mixture is unreadable ({})", what, e.what_without_backtrace()));
  }
  const bool ok =
      mix.rows.dim() == 2 && mix.weights.dim() == 2 && mix.means.dim() == 3 &&
      mix.chol.dim() == 4 && mix.rows.size(0) == mix.weights.size(0) &&
      mix.means.size(0) == mix.rows.size(0) && mix.chol.size(0) == mix.rows.size(0) &&
      mix.means.size(1) == mix.weights.size(1) && mix.chol.size(1) == mix.weights.size(1) &&
      mix.chol.size(2) == mix.means.size(2) && mix.chol.size(3) == mix.means.size(2) &&
      mix.weights.size(1) > 0 && mix.rows.scalar_type() == torch::kInt64 &&
      mix.weights.scalar_type() == torch::kFloat64 && mix.means.scalar_type() == torch::kFloat64 &&
      mix.chol.scalar_type() == torch::kFloat64 && torch::isfinite(mix.means).all().item<bool>() &&
      torch::isfinite(mix.chol).all().item<bool>() && (mix.weights >= 0).all().item<bool>() &&
      (mix.weights.sum(1) > 0).all().item<bool>();
  if (!ok) throw CheckpointError(fmt::format("{}: latent mixture has inconsistent shapes", what));
  return mix;
}

}  // namespace cvae::models
