// Likelihoods p(x | z, c) over D features.
//
// Shapes: B batch, D features (flattened example). The decoder outputs
// params_per_feature() * D values per example.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace cvae::models {

class Likelihood {
 public:
  virtual ~Likelihood() = default;
  virtual std::string name() const = 0;
  virtual int64_t params_per_feature() const = 0;
  // Negative log-likelihood summed over features: params (B, P*D), x (B, D) -> (B,)
  virtual torch::Tensor nll(const torch::Tensor& params, const torch::Tensor& x) const = 0;
  // Mean of p(x | params): (B, P*D) -> (B, D)
  virtual torch::Tensor mean(const torch::Tensor& params) const = 0;
  // One draw from p(x | params): (B, P*D) -> (B, D)
  virtual torch::Tensor sample(const torch::Tensor& params, at::Generator& gen) const = 0;
  // Checks that the data lies in the likelihood's support; throws DataError otherwise.
  virtual void check_support(const torch::Tensor& x, const std::string& source) const = 0;
};

// Bernoulli on logits: -log p(x | l) = softplus(l) - x * l, computed as
// max(l, 0) - x * l + log1p(exp(-|l|)) so it never overflows (the same form as
// torch's binary_cross_entropy_with_logits). x may be fractional in [0, 1]
// (the usual "Bernoulli" loss on grey-level pixels).
class BernoulliLikelihood final : public Likelihood {
 public:
  std::string name() const override { return "bernoulli"; }
  int64_t params_per_feature() const override { return 1; }
  torch::Tensor nll(const torch::Tensor& x_logits, const torch::Tensor& x) const override;
  torch::Tensor mean(const torch::Tensor& x_logits) const override;
  torch::Tensor sample(const torch::Tensor& x_logits, at::Generator& gen) const override;
  void check_support(const torch::Tensor& x, const std::string& source) const override;
};

// Continuous Bernoulli on logits (Loaiza-Ganem & Cunningham 2019): a proper
// density on [0, 1], p(x | l) = C(l) * sigmoid(l)^x * (1 - sigmoid(l))^(1 - x),
// with the normaliser C(l) = l / tanh(l / 2) (-> 2 as l -> 0). So
//   -log p(x | l) = BCE(l, x) - log C(l),
// and E[x] = sigmoid(l) / (2 sigmoid(l) - 1) - 1 / l (-> 1/2 + l/12 as l -> 0).
// Near l = 0 both use their series, so values and gradients stay finite.
class ContinuousBernoulliLikelihood final : public Likelihood {
 public:
  std::string name() const override { return "cbernoulli"; }
  int64_t params_per_feature() const override { return 1; }
  torch::Tensor nll(const torch::Tensor& x_logits, const torch::Tensor& x) const override;
  torch::Tensor mean(const torch::Tensor& x_logits) const override;
  torch::Tensor sample(const torch::Tensor& x_logits, at::Generator& gen) const override;
  void check_support(const torch::Tensor& x, const std::string& source) const override;
  // log C(l), elementwise.
  static torch::Tensor log_norm(const torch::Tensor& x_logits);
};

// Gaussian with a learned variance per feature. params (B, 2D): the first D
// give the mean mu = sigmoid(a) (in [0, 1], like the data), the second D the
// variance var = kVarMin + softplus(b); the floor keeps the density bounded on
// pixels that are always 0 (var >= 1e-4, i.e. sigma >= 0.01).
//   -log p(x) = 0.5 * (log(2 pi) + log var + (x - mu)^2 / var), summed over D.
class GaussianLikelihood final : public Likelihood {
 public:
  static constexpr double kVarMin = 1e-4;
  std::string name() const override { return "gaussian"; }
  int64_t params_per_feature() const override { return 2; }
  torch::Tensor nll(const torch::Tensor& params, const torch::Tensor& x) const override;
  torch::Tensor mean(const torch::Tensor& params) const override;
  torch::Tensor sample(const torch::Tensor& params, at::Generator& gen) const override;
  void check_support(const torch::Tensor& x, const std::string& source) const override;
  // params (B, 2D) -> variance (B, D)
  static torch::Tensor variance(const torch::Tensor& params);
};

// Categorical over a vocabulary of V tokens at each of T positions (text).
// params (B, T*V) are logits, position-major (row t*V .. t*V+V-1 is position t);
// x (B, T) holds token ids (int64) with <pad> = 0 after the end of each text.
//   -log p(x | l) = -sum over t with x_t != <pad> of log_softmax(l_t)[x_t]
// so padding is not part of the text's likelihood (the <eos> token is).
// mean() gives the most likely token per position (the mode), as ids.
class CategoricalLikelihood final : public Likelihood {
 public:
  static constexpr int64_t kPad = 0;  // the padding id of token data (text: Vocabulary::kPad)
  explicit CategoricalLikelihood(int64_t vocab_size);
  std::string name() const override { return "categorical"; }
  int64_t params_per_feature() const override { return vocab_size_; }
  torch::Tensor nll(const torch::Tensor& logits, const torch::Tensor& x) const override;
  torch::Tensor mean(const torch::Tensor& logits) const override;
  torch::Tensor sample(const torch::Tensor& logits, at::Generator& gen) const override;
  void check_support(const torch::Tensor& x, const std::string& source) const override;

 private:
  int64_t vocab_size_;
};

// Multinomial over D items (Liang et al. 2018, Mult-VAE): params (B, D) are
// logits, x (B, D) counts (item sets: 1 for each item of the example).
//   -log p(x | l) = -sum over i with l_i > -inf of x_i * log_softmax(l)_i
// (without the multinomial coefficient, a constant of the data). A logit of
// -inf rules item i out: the decoder's condition allows only some items (a
// genre), and the example's items outside them are not part of its
// likelihood, as padding is not part of a text's. mean() gives the item
// probabilities; sample() draws one item per row (one-hot).
class MultinomialLikelihood final : public Likelihood {
 public:
  std::string name() const override { return "multinomial"; }
  int64_t params_per_feature() const override { return 1; }
  torch::Tensor nll(const torch::Tensor& logits, const torch::Tensor& x) const override;
  torch::Tensor mean(const torch::Tensor& logits) const override;
  torch::Tensor sample(const torch::Tensor& logits, at::Generator& gen) const override;
  void check_support(const torch::Tensor& x, const std::string& source) const override;
};

// vocab_size: V for "categorical" (ignored otherwise).
std::unique_ptr<Likelihood> make_likelihood(const std::string& name, int64_t vocab_size = 0);

}  // namespace cvae::models
