// The model variants of docs/models.md: the conv encoder/decoder and learned
// prior against a PyTorch twin (tests/reference/twin_conv.py, whose likelihoods
// and KL come from torch.distributions), the continuous Bernoulli and Gaussian
// likelihoods against numerical integration, free bits, and the KL schedules.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"
#include "support/twin_fixture.h"
#include "train/kl_schedule.h"

namespace cvae {
namespace {

ModelConfig config_with(std::vector<int64_t> shape, int64_t classes) {
  return testing::toy_model_config(std::move(shape), static_cast<int>(classes));
}

class TwinConvFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(TwinConvFixture, ForwardLossAndGradientsMatchPyTorch) {
  std::ifstream in(std::string(CVAE_TEST_FIXTURES) + "/twin_conv_" + GetParam() + ".json");
  ASSERT_TRUE(in) << "missing fixture twin_conv_" << GetParam() << ".json";
  nlohmann::json fx = nlohmann::json::parse(in);
  const auto& cj = fx["config"];
  auto cfg =
      config_with(cj["input_shape"].get<std::vector<int64_t>>(), cj["classes"].get<int64_t>());
  cfg.arch = "conv";
  cfg.prior = "learned";
  cfg.likelihood = cj["likelihood"].get<std::string>();
  cfg.channels = cj["channels"].get<std::vector<int64_t>>();
  cfg.hidden = cj["hidden"].get<std::vector<int64_t>>();
  cfg.latent = cj["latent"].get<int64_t>();
  models::CVAE model(cfg);
  ASSERT_EQ(testing::load_twin_params(*model, fx), "");
  const auto inputs = testing::twin_inputs(fx, cfg);
  const int64_t b = inputs.batch;
  const auto &x = inputs.x, &eps = inputs.eps, &c = inputs.c;

  const auto& ex = fx["expected"];
  auto out = model->forward(x, c, eps);
  EXPECT_LE(testing::max_abs_diff(out.mu, testing::tensor_from_json(ex["mu"], {b, cfg.latent})),
            1e-5);
  EXPECT_LE(testing::max_abs_diff(out.x_params, testing::tensor_from_json(ex["x_params"], {b, -1})),
            1e-5);
  auto [mu_p, logvar_p] = model->prior(c);
  EXPECT_LE(testing::max_abs_diff(mu_p, testing::tensor_from_json(ex["prior_mu"], {b, cfg.latent})),
            1e-5);
  EXPECT_LE(testing::max_abs_diff(logvar_p,
                                  testing::tensor_from_json(ex["prior_logvar"], {b, cfg.latent})),
            1e-5);

  auto terms =
      models::elbo_loss(*model, x, c, eps, cj["beta"].get<double>(), cj["free_bits"].get<double>());
  EXPECT_LE(
      testing::max_abs_diff(terms.loss_recon, testing::tensor_from_json(ex["loss_recon"], {b})),
      2e-4);
  EXPECT_LE(testing::max_abs_diff(terms.loss_kl, testing::tensor_from_json(ex["loss_kl"], {b})),
            1e-5);
  EXPECT_NEAR(terms.loss.item<double>(), testing::tensor_from_json(ex["loss"], {1}).item<double>(),
              1e-4);
  terms.loss.backward();
  for (auto& p : model->named_parameters()) {
    const auto& g = fx["grads"][p.key()];
    auto expected = testing::tensor_from_json(g, p.value().sizes().vec());
    const double scale = std::max(1.0, expected.abs().max().item<double>());
    // 5e-4: PyTorch's ContinuousBernoulli replaces log C by a Taylor polynomial for
    // probabilities within 0.499..0.501 (its _lims), cvae only for |l| < 0.01; the
    // two differ by ~1e-5 per pixel, summed over 252 pixel terms in the last bias.
    EXPECT_LE(testing::max_abs_diff(p.value().grad(), expected), 5e-4 * scale) << p.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Likelihoods, TwinConvFixture,
                         ::testing::Values(std::string("cbernoulli"), std::string("gaussian")));

TEST(ConvArchitecture, ShapesFollowTheDataForOddAndColourImages) {
  for (auto shape : std::vector<std::vector<int64_t>>{{1, 28, 28}, {3, 11, 6}, {1, 4, 5}}) {
    for (std::string lik : {"bernoulli", "gaussian"}) {
      auto cfg = config_with(shape, 4);
      cfg.arch = "conv";
      cfg.likelihood = lik;
      cfg.channels = {5, 6};
      cfg.hidden = {16};
      cfg.latent = 3;
      models::CVAE model(cfg);
      std::vector<int64_t> xs = {2};
      xs.insert(xs.end(), shape.begin(), shape.end());
      auto x = torch::rand(xs);
      auto c = data::encode_conditions(cfg.conditions, torch::tensor({{0}, {3}}));
      auto out = model->forward(x, c, torch::randn({2, 3}));
      const int64_t p = lik == "gaussian" ? 2 : 1;
      EXPECT_EQ(out.x_params.sizes().vec(),
                (std::vector<int64_t>{2, p * shape[0] * shape[1] * shape[2]}));
      EXPECT_EQ(out.mu.sizes().vec(), (std::vector<int64_t>{2, 3}));
    }
  }
  auto small = config_with({1, 3, 8}, 2);
  small.arch = "conv";
  small.channels = {4, 4};  // needs at least 4x4
  EXPECT_THROW(models::resolve_model_config(small), ConfigError);
  auto flat = config_with({10}, 2);
  flat.arch = "conv";
  EXPECT_THROW(models::resolve_model_config(flat), ConfigError);
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

TEST(LearnedPrior, KlMatchesMonteCarloAndIwaeUsesThePrior) {
  // KL(N(mq, sq) || N(mp, sp)) against the mean of log q - log p over samples from q.
  auto mq = torch::tensor({{0.3, -1.0}}, torch::kFloat64),
       lq = torch::tensor({{-0.5, 0.4}}, torch::kFloat64);
  auto mp = torch::tensor({{1.0, 0.5}}, torch::kFloat64),
       lp = torch::tensor({{0.2, -0.3}}, torch::kFloat64);
  auto closed = models::kl_normal_per_dim(mq, lq, mp, lp);
  auto z = mq + torch::exp(0.5 * lq) * torch::randn({400000, 2}, torch::kFloat64);
  auto log_q = -0.5 * ((z - mq).pow(2) / lq.exp() + lq + std::log(2 * M_PI));
  auto log_p = -0.5 * ((z - mp).pow(2) / lp.exp() + lp + std::log(2 * M_PI));
  auto mc = (log_q - log_p).mean(0);
  EXPECT_NEAR(closed[0][0].item<double>(), mc[0].item<double>(), 0.01);
  EXPECT_NEAR(closed[0][1].item<double>(), mc[1].item<double>(), 0.01);
  // Against the standard normal it is the standard formula.
  auto zeros = torch::zeros_like(mq);
  EXPECT_LE(testing::max_abs_diff(models::kl_normal_per_dim(mq, lq, zeros, zeros),
                                  models::kl_standard_normal_per_dim(mq, lq)),
            1e-12);

  // Z = 1, learned prior: the IWAE estimate approaches the exact marginal
  // int p(x|z,c) p(z|c) dz computed by quadrature.
  torch::manual_seed(11);
  auto cfg = config_with({3}, 2);
  cfg.prior = "learned";
  cfg.hidden = {6};
  cfg.latent = 1;
  models::CVAE model(cfg);
  model->to(torch::kFloat64);
  model->eval();
  torch::NoGradGuard ng;
  auto x = torch::tensor({{1.0, 0.0, 1.0}}, torch::kFloat64);
  auto c = data::encode_conditions(cfg.conditions, torch::tensor({{1}})).to(torch::kFloat64);
  auto [mu_p, logvar_p] = model->prior(c);
  ASSERT_GT(std::abs(mu_p.item<double>()), 1e-3) << "the prior should not be N(0, 1) here";
  const int64_t grid = 40001;
  auto zg = torch::linspace(-15, 15, grid, torch::kFloat64).view({grid, 1});
  auto log_px =
      -model->likelihood().nll(model->decode(zg, c.expand({grid, -1})), x.expand({grid, -1}));
  auto log_pz = eval::log_normal(zg, mu_p.expand({grid, 1}), logvar_p.expand({grid, 1}));
  const double exact =
      -(torch::logsumexp(log_px + log_pz, 0).item<double>() + std::log(30.0 / (grid - 1)));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  EXPECT_NEAR(eval::iwae_nll(*model, x, c, 20000, gen, 4096).item<double>(), exact, 0.02);
}

TEST(FreeBits, FloorAppliesToTheBatchMeanKlPerDimension) {
  torch::manual_seed(2);
  auto cfg = config_with({4}, 2);
  cfg.hidden = {5};
  cfg.latent = 3;
  models::CVAE model(cfg);
  auto x = torch::rand({6, 4});
  auto c = data::encode_conditions(cfg.conditions, torch::tensor({{0}, {1}, {0}, {1}, {0}, {1}}));
  auto eps = torch::randn({6, 3});
  auto plain = models::elbo_loss(*model, x, c, eps, 0.7, 0.0);
  auto out = model->forward(x, c, eps);
  auto kl = models::kl_standard_normal_per_dim(out.mu, out.logvar);  // (B, Z)
  const double fb = kl.mean(0).max().item<double>() * 0.6;           // binds on some dimensions
  auto floored = models::elbo_loss(*model, x, c, eps, 0.7, fb);
  double expected = plain.loss_recon.mean().item<double>();
  for (int64_t d = 0; d < 3; ++d) expected += 0.7 * std::max(fb, kl.mean(0)[d].item<double>());
  EXPECT_NEAR(floored.loss.item<double>(), expected, 1e-5);
  EXPECT_NEAR(plain.loss.item<double>(),
              (plain.loss_recon + 0.7 * plain.loss_kl).mean().item<double>(), 1e-5);
  // The reported KL is the true KL either way.
  EXPECT_LE(testing::max_abs_diff(floored.loss_kl, plain.loss_kl), 1e-6);
  // Above every dimension's KL, the KL term carries no gradient to the encoder's logvar head.
  model->zero_grad();
  models::elbo_loss(*model, x, c, eps, 0.7, 1e3).loss.backward();
  auto with_floor = model->named_parameters()["encoder.logvar_head.bias"].grad().clone();
  model->zero_grad();
  models::elbo_loss(*model, x, c, eps, 0.0, 0.0).loss.backward();  // reconstruction only
  auto recon_only = model->named_parameters()["encoder.logvar_head.bias"].grad();
  EXPECT_LE(testing::max_abs_diff(with_floor, recon_only), 1e-6);
}

TEST(ModelConfigJson, FilesFromBeforeLearnedPriorsKeepTheStandardPrior) {
  ModelConfig cfg = config_with({1, 4, 4}, 2);
  cfg.prior = "learned";
  nlohmann::json j = cfg;
  EXPECT_EQ(j.get<ModelConfig>().prior, "learned");
  j.erase("prior");  // as written by cvae before this option existed
  EXPECT_EQ(j.get<ModelConfig>().prior, "standard");
}

TEST(KlSchedule, ConstantWarmupAndCycles) {
  TrainConfig cfg;
  cfg.kl_warmup = 0;
  cfg.beta = 2.0;
  EXPECT_EQ(training::kl_weight(cfg, 0, 10), 2.0);
  cfg.kl_warmup = 2;  // 20 steps
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 5, 10), 0.5);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 40, 10), 2.0);
  cfg.kl_warmup = 0;
  cfg.epochs = 4;
  cfg.kl_cycles = 2;  // 40 steps: cycles of 20, rising over the first 10
  cfg.kl_cycle_ratio = 0.5;
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 0, 10), 0.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 5, 10), 1.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 10, 10), 2.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 19, 10), 2.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 20, 10), 0.0);
  EXPECT_DOUBLE_EQ(training::kl_weight(cfg, 25, 10), 1.0);
  cfg.kl_warmup = 1;
  EXPECT_THROW(cfg.validate(), ConfigError);  // one schedule at a time
}

}  // namespace
}  // namespace cvae
