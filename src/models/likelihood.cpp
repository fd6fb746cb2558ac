#include "models/likelihood.h"

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::models {

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
  const double lo = x.min().item<double>();
  const double hi = x.max().item<double>();
  if (!(lo >= 0.0 && hi <= 1.0)) {
    throw DataError(
        fmt::format("'{}' has values outside the Bernoulli likelihood's range (got [{}, {}] vs "
                    "expected within [0, 1])",
                    source, lo, hi));
  }
}

std::unique_ptr<Likelihood> make_likelihood(const std::string& name) {
  if (name == "bernoulli") return std::make_unique<BernoulliLikelihood>();
  throw ConfigError(
      fmt::format("unknown likelihood (got '{}' vs expected one of: bernoulli)", name));
}

}  // namespace cvae::models
