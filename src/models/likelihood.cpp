#include "models/likelihood.h"

#include <cmath>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::models {

namespace {

void check_unit_interval(const torch::Tensor& x, const std::string& source, const char* what) {
  const double lo = x.min().item<double>();
  const double hi = x.max().item<double>();
  if (!(lo >= 0.0 && hi <= 1.0)) {
    throw DataError(fmt::format(
        "'{}' has values outside the {} likelihood's range (got [{}, {}] vs expected within "
        "[0, 1])",
        source, what, lo, hi));
  }
}

// Below this |l| the series of log C(l) replaces its closed form (the next
// term is O(l^6): far below float precision here).
constexpr double kSeriesBelow = 1e-2;

}  // namespace

torch::Tensor BernoulliLikelihood::nll(const torch::Tensor& x_logits,
                                       const torch::Tensor& x) const {
  // (B, D), (B, D) -> (B,): sum over features. torch's fused kernel computes
  // max(l, 0) - x * l + log1p(exp(-|l|)) in one pass (and its gradient in one).
  return torch::binary_cross_entropy_with_logits(x_logits, x, {}, {}, at::Reduction::None).sum(1);
}

torch::Tensor BernoulliLikelihood::mean(const torch::Tensor& x_logits) const {
  return torch::sigmoid(x_logits);
}

torch::Tensor BernoulliLikelihood::sample(const torch::Tensor& x_logits, at::Generator& gen) const {
  return torch::bernoulli(torch::sigmoid(x_logits), gen);
}

void BernoulliLikelihood::check_support(const torch::Tensor& x, const std::string& source) const {
  check_unit_interval(x, source, "Bernoulli");
}

torch::Tensor ContinuousBernoulliLikelihood::log_norm(const torch::Tensor& l) {
  auto small = l.abs() < kSeriesBelow;
  // Replacing l in the unused branch keeps its gradient finite (a NaN there would
  // leak through torch::where's backward).
  auto safe = torch::where(small, torch::ones_like(l), l);
  auto exact = torch::log(safe.abs()) - torch::log(torch::tanh(0.5 * safe).abs());
  auto l2 = l * l;
  auto series = std::log(2.0) + torch::log1p(l2 / 12.0 - l2 * l2 / 720.0);
  return torch::where(small, series, exact);
}

torch::Tensor ContinuousBernoulliLikelihood::nll(const torch::Tensor& x_logits,
                                                 const torch::Tensor& x) const {
  auto bce = torch::binary_cross_entropy_with_logits(x_logits, x, {}, {}, at::Reduction::None);
  return (bce - log_norm(x_logits)).sum(1);
}

torch::Tensor ContinuousBernoulliLikelihood::mean(const torch::Tensor& l) const {
  // E[x] = 1/2 + 1 / (2 tanh(l/2)) - 1/l. The last two terms cancel as l -> 0,
  // so below |l| = 0.1 the series 1/2 + l/12 - l^3/720 (next term l^5/30240) is used.
  auto small = l.abs() < 0.1;
  auto safe = torch::where(small, torch::ones_like(l), l);
  auto exact = 0.5 + 0.5 / torch::tanh(0.5 * safe) - 1.0 / safe;
  return torch::where(small, 0.5 + l / 12.0 - l * l * l / 720.0, exact);
}

torch::Tensor ContinuousBernoulliLikelihood::sample(const torch::Tensor& x_logits,
                                                    at::Generator& gen) const {
  // Inverse CDF: F^-1(u) = log1p(u * expm1(l)) / l (u for l -> 0). Logits beyond
  // +-50 put all mass within 1e-20 of an end point, so clamping them is exact
  // in float and keeps expm1 finite.
  auto l = x_logits.clamp(-50.0, 50.0);
  auto u = torch::rand(l.sizes(), gen);
  auto small = l.abs() < 1e-4;
  auto safe = torch::where(small, torch::ones_like(l), l);
  auto x = torch::log1p(u * torch::expm1(safe)) / safe;
  return torch::where(small, u, x).clamp(0.0, 1.0);
}

void ContinuousBernoulliLikelihood::check_support(const torch::Tensor& x,
                                                  const std::string& source) const {
  check_unit_interval(x, source, "continuous Bernoulli");
}

torch::Tensor GaussianLikelihood::variance(const torch::Tensor& params) {
  const int64_t d = params.size(1) / 2;
  return torch::softplus(params.slice(1, d, 2 * d)) + kVarMin;
}

torch::Tensor GaussianLikelihood::nll(const torch::Tensor& params, const torch::Tensor& x) const {
  static const double kLog2Pi = std::log(2.0 * M_PI);
  const int64_t d = params.size(1) / 2;
  auto mu = torch::sigmoid(params.slice(1, 0, d));
  auto var = variance(params);
  return (0.5 * (kLog2Pi + torch::log(var) + (x - mu).pow(2) / var)).sum(1);
}

torch::Tensor GaussianLikelihood::mean(const torch::Tensor& params) const {
  return torch::sigmoid(params.slice(1, 0, params.size(1) / 2));
}

torch::Tensor GaussianLikelihood::sample(const torch::Tensor& params, at::Generator& gen) const {
  auto mu = mean(params);
  return mu + torch::sqrt(variance(params)) * torch::randn(mu.sizes(), gen);
}

void GaussianLikelihood::check_support(const torch::Tensor& x, const std::string& source) const {
  if (!torch::isfinite(x).all().item<bool>()) {
    throw DataError(fmt::format(
        "'{}' has non-finite values (expected finite numbers for the Gaussian likelihood)",
        source));
  }
}

CategoricalLikelihood::CategoricalLikelihood(int64_t vocab_size) : vocab_size_(vocab_size) {
  if (vocab_size < 2) {
    throw ConfigError(fmt::format(
        "categorical likelihood needs a vocabulary (got {} tokens vs expected at least 2)",
        vocab_size));
  }
}

torch::Tensor CategoricalLikelihood::nll(const torch::Tensor& logits,
                                         const torch::Tensor& x) const {
  const int64_t b = x.size(0), t = x.size(1);
  auto log_p = torch::log_softmax(logits.view({b, t, vocab_size_}), -1);       // (B, T, V)
  auto picked = log_p.gather(2, x.to(torch::kInt64).unsqueeze(2)).squeeze(2);  // (B, T)
  auto mask = (x != kPad).to(log_p.scalar_type());
  return -(picked * mask).sum(1);  // (B,)
}

torch::Tensor CategoricalLikelihood::mean(const torch::Tensor& logits) const {
  return logits.view({logits.size(0), -1, vocab_size_}).argmax(-1);  // (B, T) ids
}

torch::Tensor CategoricalLikelihood::sample(const torch::Tensor& logits, at::Generator& gen) const {
  const int64_t b = logits.size(0);
  auto probs = torch::softmax(logits.view({-1, vocab_size_}), -1);
  return torch::multinomial(probs, 1, /*replacement=*/true, gen).view({b, -1});
}

void CategoricalLikelihood::check_support(const torch::Tensor& x, const std::string& source) const {
  if (x.scalar_type() != torch::kInt64) {
    throw DataError(fmt::format(
        "'{}' holds {} values (expected token ids, int64, for the categorical likelihood)", source,
        std::string(c10::toString(x.scalar_type()))));
  }
  if (x.numel() == 0) return;
  const int64_t lo = x.min().item<int64_t>(), hi = x.max().item<int64_t>();
  if (lo < 0 || hi >= vocab_size_) {
    throw DataError(
        fmt::format("'{}' has token ids outside the vocabulary (got [{}, {}] vs "
                    "expected within [0, {}])",
                    source, lo, hi, vocab_size_ - 1));
  }
}

torch::Tensor MultinomialLikelihood::nll(const torch::Tensor& logits,
                                         const torch::Tensor& x) const {
  auto ruled_out = torch::isinf(logits) & (logits < 0);
  auto log_p = torch::log_softmax(logits, 1).masked_fill(ruled_out, 0);  // (B, D)
  auto counts = x.to(log_p.scalar_type()).masked_fill(ruled_out, 0);
  return -(counts * log_p).sum(1);  // (B,)
}

torch::Tensor MultinomialLikelihood::mean(const torch::Tensor& logits) const {
  return torch::softmax(logits, 1);
}

torch::Tensor MultinomialLikelihood::sample(const torch::Tensor& logits, at::Generator& gen) const {
  auto pick = torch::multinomial(torch::softmax(logits, 1), 1, /*replacement=*/true, gen);
  return torch::zeros_like(logits).scatter_(1, pick, 1.0);
}

void MultinomialLikelihood::check_support(const torch::Tensor& x, const std::string& source) const {
  if (x.numel() == 0) return;
  auto xd = x.to(torch::kFloat64);
  if (!torch::isfinite(xd).all().item<bool>() || xd.min().item<double>() < 0) {
    throw DataError(fmt::format(
        "'{}' has negative or non-finite values (expected counts >= 0 for the multinomial "
        "likelihood)",
        source));
  }
}

std::unique_ptr<Likelihood> make_likelihood(const std::string& name, int64_t vocab_size) {
  if (name == "bernoulli") return std::make_unique<BernoulliLikelihood>();
  if (name == "cbernoulli") return std::make_unique<ContinuousBernoulliLikelihood>();
  if (name == "gaussian") return std::make_unique<GaussianLikelihood>();
  if (name == "categorical") return std::make_unique<CategoricalLikelihood>(vocab_size);
  if (name == "multinomial") return std::make_unique<MultinomialLikelihood>();
  throw ConfigError(
      fmt::format("unknown likelihood (got '{}' vs expected one of: bernoulli, cbernoulli, "
                  "gaussian, categorical, multinomial)",
                  name));
}

}  // namespace cvae::models
