// models/likelihood.cpp: each likelihood against its definition: Bernoulli,
// continuous Bernoulli and Gaussian (against numerical integration and closed
// forms), categorical (cross-entropy over the non-pad positions), multinomial
// (against log_softmax, and with items ruled out).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <limits>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/likelihood.h"
#include "support/expect_error.h"
#include "support/text_fixtures.h"

namespace cvae {
namespace {

using testing::tiny_tokens;

TEST(BernoulliLikelihood, MatchesDefinitionAndStaysFinite) {
  models::BernoulliLikelihood lik;
  auto logits = torch::tensor({{-3.0, -0.2, 0.0, 1.5, 4.0}}, torch::kFloat64);
  auto x = torch::tensor({{0.0, 1.0, 0.5, 0.25, 1.0}}, torch::kFloat64);
  auto p = torch::sigmoid(logits);
  auto direct = -(x * torch::log(p) + (1 - x) * torch::log(1 - p)).sum(1);
  EXPECT_NEAR(lik.nll(logits, x).item<double>(), direct.item<double>(), 1e-12);
  // Extreme logits: the direct formula overflows, the stable one does not.
  auto big = torch::tensor({{-200.0, 200.0}}, torch::kFloat32);
  auto xb = torch::tensor({{1.0, 0.0}}, torch::kFloat32);
  const double v = lik.nll(big, xb).item<double>();
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, 400.0, 1e-3);
  EXPECT_NEAR(lik.mean(torch::zeros({1, 3})).sum().item<double>(), 1.5, 1e-7);
  EXPECT_THROW(lik.check_support(torch::tensor({0.0, 1.5}), "x"), cvae::DataError);
}

// Density of the continuous Bernoulli on [0, 1] by the trapezoid rule.
double integrate(const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  const int64_t n = 200001;
  auto x = torch::linspace(0.0, 1.0, n, torch::kFloat64);
  auto y = f(x);
  return ((y.slice(0, 1) + y.slice(0, 0, n - 1)) * 0.5).sum().item<double>() / (n - 1);
}

TEST(ContinuousBernoulli, NormalisedMeanMatchesIntegralAndSamplesAgree) {
  models::ContinuousBernoulliLikelihood lik;
  for (double l : {-30.0, -4.0, -0.3, -0.05, -0.004, 0.0, 1e-6, 0.009, 0.05, 0.5, 3.0, 12.0}) {
    auto density = [&](const torch::Tensor& x) {
      auto logits = torch::full({x.size(0), 1}, l, torch::kFloat64);
      return torch::exp(-lik.nll(logits, x.view({-1, 1})));
    };
    EXPECT_NEAR(integrate(density), 1.0, 2e-4) << "logit " << l;
    const double mean_num = integrate([&](const torch::Tensor& x) { return x * density(x); });
    const double mean = lik.mean(torch::full({1, 1}, l, torch::kFloat64)).item<double>();
    EXPECT_NEAR(mean, mean_num, 2e-4) << "logit " << l;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    auto draws = lik.sample(torch::full({1, 200000}, l), gen);
    EXPECT_GE(draws.min().item<double>(), 0.0);
    EXPECT_LE(draws.max().item<double>(), 1.0);
    EXPECT_NEAR(draws.mean().item<double>(), mean, 0.004) << "logit " << l;
  }
}

TEST(ContinuousBernoulli, GradientFiniteAndCorrectAroundZero) {
  models::ContinuousBernoulliLikelihood lik;
  auto x = torch::tensor({{0.2, 0.9, 0.5, 0.0}}, torch::kFloat64);
  for (double l0 : {0.0, 0.004, -0.02, 0.7}) {
    auto l = torch::full({1, 4}, l0, torch::kFloat64).requires_grad_(true);
    lik.nll(l, x).sum().backward();
    auto g = l.grad();
    ASSERT_TRUE(torch::isfinite(g).all().item<bool>()) << "logit " << l0;
    for (int64_t i = 0; i < 4; ++i) {
      const double h = 1e-5;
      auto up = torch::full({1, 4}, l0, torch::kFloat64), down = up.clone();
      up[0][i] += h;
      down[0][i] -= h;
      const double fd = (lik.nll(up, x) - lik.nll(down, x)).item<double>() / (2 * h);
      EXPECT_NEAR(g[0][i].item<double>(), fd, 1e-5) << "logit " << l0 << " feature " << i;
    }
  }
}

TEST(GaussianLikelihood, MatchesClosedFormAndVarianceFloor) {
  models::GaussianLikelihood lik;
  auto params = torch::tensor({{0.3, -2.0, 1.0, -40.0}}, torch::kFloat64);  // a (2), b (2)
  auto x = torch::tensor({{0.5, 0.1}}, torch::kFloat64);
  double expected = 0;
  const double a[2] = {0.3, -2.0}, b[2] = {1.0, -40.0}, xv[2] = {0.5, 0.1};
  for (int i = 0; i < 2; ++i) {
    const double mu = 1.0 / (1.0 + std::exp(-a[i]));
    const double var = std::log1p(std::exp(b[i])) + 1e-4;
    expected += 0.5 * std::log(2 * M_PI * var) + (xv[i] - mu) * (xv[i] - mu) / (2 * var);
  }
  EXPECT_NEAR(lik.nll(params, x).item<double>(), expected, 1e-9);
  EXPECT_GE(models::GaussianLikelihood::variance(params).min().item<double>(), 1e-4);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  auto many = torch::tensor({{0.0, 0.0}}, torch::kFloat64).expand({100000, 2}).contiguous();
  auto draws = lik.sample(many, gen);
  EXPECT_NEAR(draws.mean().item<double>(), 0.5, 0.01);
  EXPECT_NEAR(draws.var().item<double>(), std::log(2.0) + 1e-4, 0.01);
  EXPECT_NO_THROW(lik.check_support(torch::tensor({-3.0, 7.0}), "x"));
  EXPECT_THROW(lik.check_support(torch::tensor({0.0, std::nan("")}), "x"), DataError);
}

TEST(CategoricalLikelihood, NllIsCrossEntropySummedOverNonPadPositions) {
  torch::manual_seed(3);
  const int64_t b = 2, t = 6, v = 12;
  cvae::models::CategoricalLikelihood lik(v);
  auto logits = torch::randn({b, t * v}, torch::kFloat64);
  auto x = tiny_tokens();
  auto got = lik.nll(logits, x);
  // Independent form: torch's cross entropy with the padding index ignored.
  auto ce = torch::nn::functional::cross_entropy(
      logits.view({b * t, v}), x.view({b * t}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(0).reduction(torch::kNone));
  auto want = ce.view({b, t}).sum(1);
  EXPECT_TRUE(torch::allclose(got, want, 1e-12, 1e-12)) << got << want;
  // Only the 4 and 6 real tokens count: changing logits at a padded position changes nothing.
  auto shifted = logits.clone();
  shifted[0].slice(0, 4 * v, 5 * v).add_(5.0);
  EXPECT_TRUE(torch::allclose(lik.nll(shifted, x), got));
}

TEST(CategoricalLikelihood, ChecksTokenIds) {
  cvae::models::CategoricalLikelihood lik(12);
  auto msg = cvae::testing::error_of([&] {
    lik.check_support(torch::tensor({{1, 12}}, torch::kInt64), "toy.tsv");
  });
  EXPECT_CONTAINS(msg, "outside the vocabulary");
  msg = cvae::testing::error_of([&] { lik.check_support(torch::zeros({1, 3}), "toy.tsv"); });
  EXPECT_CONTAINS(msg, "token ids");
  EXPECT_THROW(cvae::models::CategoricalLikelihood(1), cvae::ConfigError);
}

TEST(MultinomialLikelihood, NllIsCountsTimesLogSoftmaxAndSkipsRuledOutItems) {
  models::MultinomialLikelihood lik;
  auto logits = torch::tensor({{0.5, -1.0, 2.0, 0.0}, {1.0, 1.0, -3.0, 0.25}}, torch::kFloat64);
  auto x = torch::tensor({{1.0, 0.0, 1.0, 1.0}, {0.0, 2.0, 1.0, 0.0}}, torch::kFloat64);
  auto want = -(x * torch::log_softmax(logits, 1)).sum(1);
  auto got = lik.nll(logits, x);
  for (int64_t i = 0; i < 2; ++i) EXPECT_NEAR(got[i].item<double>(), want[i].item<double>(), 1e-12);
  // Row 0 by hand: -(0.5 + 2 + 0) + 3 log(e^0.5 + e^-1 + e^2 + e^0).
  const double lse = std::log(std::exp(0.5) + std::exp(-1.0) + std::exp(2.0) + 1.0);
  EXPECT_NEAR(got[0].item<double>(), 3 * lse - 2.5, 1e-12);
  // A logit of -inf rules its item out: the multinomial is over the others,
  // and the example's count there is not part of its likelihood.
  const double inf = std::numeric_limits<double>::infinity();
  auto masked = torch::tensor({{0.5, -inf, 2.0, 0.0}}, torch::kFloat64).requires_grad_(true);
  auto xm = torch::tensor({{1.0, 1.0, 1.0, 0.0}}, torch::kFloat64);
  auto nll = lik.nll(masked, xm);
  const double lse3 = std::log(std::exp(0.5) + std::exp(2.0) + 1.0);
  EXPECT_NEAR(nll.item<double>(), 2 * lse3 - 2.5, 1e-12);
  nll.sum().backward();
  auto g = masked.grad();
  EXPECT_TRUE(torch::isfinite(g).all().item<bool>()) << g;
  EXPECT_EQ(g[0][1].item<double>(), 0.0);
  // d nll / d l_i = n softmax_i - x_i over the allowed items (n = 2 counted).
  auto sm = torch::softmax(torch::tensor({0.5, 2.0, 0.0}, torch::kFloat64), 0);
  EXPECT_NEAR(g[0][0].item<double>(), 2 * sm[0].item<double>() - 1, 1e-12);
  EXPECT_NEAR(g[0][3].item<double>(), 2 * sm[2].item<double>(), 1e-12);
  // mean: probabilities, 0 where ruled out; sample: one item per row.
  auto m = lik.mean(masked.detach());
  EXPECT_NEAR(m.sum().item<double>(), 1.0, 1e-12);
  EXPECT_EQ(m[0][1].item<double>(), 0.0);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto s = lik.sample(masked.detach().expand({50, 4}).contiguous(), gen);
  EXPECT_TRUE((s.sum(1) == 1).all().item<bool>());
  EXPECT_EQ(s.select(1, 1).sum().item<double>(), 0.0);
  // Support: counts >= 0.
  lik.check_support(xm, "ok");
  EXPECT_NE(testing::error_of([&] { lik.check_support(-xm, "neg.csv"); }).find("'neg.csv'"),
            std::string::npos);
  EXPECT_EQ(models::make_likelihood("multinomial")->name(), "multinomial");
}

}  // namespace
}  // namespace cvae
