// The maths of the model: the PyTorch twin's fixture, finite-difference
// gradients, the closed-form KL against Monte Carlo, the Bernoulli NLL and the
// IWAE bound against exact integration.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"
#include "support/twin_fixture.h"

namespace cvae {
namespace {

ModelConfig tiny_config(std::vector<int64_t> shape, int64_t classes, std::vector<int64_t> hidden,
                        int64_t latent) {
  return testing::toy_model_config(std::move(shape), static_cast<int>(classes), std::move(hidden),
                                   latent);
}

TEST(TwinFixture, ForwardLossAndGradientsMatchPyTorch) {
  std::ifstream in(std::string(CVAE_TEST_FIXTURES) + "/twin_tiny.json");
  ASSERT_TRUE(in) << "missing fixture twin_tiny.json";
  nlohmann::json fx = nlohmann::json::parse(in);
  const auto& cfgj = fx["config"];
  auto cfg =
      tiny_config(cfgj["input_shape"].get<std::vector<int64_t>>(), cfgj["classes"].get<int64_t>(),
                  cfgj["hidden"].get<std::vector<int64_t>>(), cfgj["latent"].get<int64_t>());
  models::CVAE model(cfg);
  ASSERT_EQ(testing::load_twin_params(*model, fx), "");
  const auto inputs = testing::twin_inputs(fx, cfg);
  const int64_t b = inputs.batch;
  const auto &x = inputs.x, &eps = inputs.eps, &c = inputs.c;

  auto out = model->forward(x, c, eps);
  const auto& ex = fx["expected"];
  EXPECT_LE(testing::max_abs_diff(out.mu, testing::tensor_from_json(ex["mu"], {b, cfg.latent})),
            1e-5);
  EXPECT_LE(
      testing::max_abs_diff(out.logvar, testing::tensor_from_json(ex["logvar"], {b, cfg.latent})),
      1e-5);
  EXPECT_LE(testing::max_abs_diff(out.z, testing::tensor_from_json(ex["z"], {b, cfg.latent})),
            1e-5);
  EXPECT_LE(testing::max_abs_diff(out.x_params, testing::tensor_from_json(ex["x_logits"], {b, -1})),
            1e-5);
  // The fixture pushes one logvar below the clamp: the clamp must be active there.
  EXPECT_EQ(out.logvar.select(1, 1).min().item<double>(), cfg.logvar_min);

  auto terms = models::elbo_loss(*model, x, c, eps, cfgj["beta"].get<double>());
  EXPECT_LE(
      testing::max_abs_diff(terms.loss_recon, testing::tensor_from_json(ex["loss_recon"], {b})),
      1e-5);
  EXPECT_LE(testing::max_abs_diff(terms.loss_kl, testing::tensor_from_json(ex["loss_kl"], {b})),
            1e-5);
  EXPECT_NEAR(terms.loss.item<double>(), testing::tensor_from_json(ex["loss"], {1}).item<double>(),
              1e-5);

  terms.loss.backward();
  for (auto& p : model->named_parameters()) {
    auto expected = testing::tensor_from_json(fx["grads"][p.key()], p.value().sizes().vec());
    EXPECT_LE(testing::max_abs_diff(p.value().grad(), expected), 1e-5) << "gradient of " << p.key();
  }
}

// Central differences in double precision against autograd, for every parameter entry.
TEST(GradientCheck, ElboLossMatchesFiniteDifferences) {
  torch::manual_seed(3);
  auto cfg = tiny_config({1, 2, 3}, 3, {5, 4}, 2);
  cfg.logvar_min = -50;  // keep the clamp (non-differentiable at its edges) out of the way
  cfg.logvar_max = 50;
  models::CVAE model(cfg);
  model->to(torch::kFloat64);
  auto x = torch::rand({4, 1, 2, 3}, torch::kFloat64);
  auto y = torch::tensor({0, 1, 2, 1}, torch::kInt64).view({4, 1});
  auto c = data::encode_conditions(cfg.conditions, y).to(torch::kFloat64);
  auto eps = torch::randn({4, 2}, torch::kFloat64);
  const double beta = 0.8;

  auto loss = models::elbo_loss(*model, x, c, eps, beta).loss;
  model->zero_grad();
  loss.backward();
  const double h = 1e-6;
  int checked = 0;
  for (auto& p : model->named_parameters()) {
    auto grad = p.value().grad().clone();
    auto flat = p.value().view({-1});
    auto gflat = grad.view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      double numeric;
      {
        torch::NoGradGuard ng;
        const double orig = flat[i].item<double>();
        flat[i] = orig + h;
        const double up = models::elbo_loss(*model, x, c, eps, beta).loss.item<double>();
        flat[i] = orig - h;
        const double down = models::elbo_loss(*model, x, c, eps, beta).loss.item<double>();
        flat[i] = orig;
        numeric = (up - down) / (2 * h);
      }
      const double analytic = gflat[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << p.key() << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(KlClosedForm, MatchesMonteCarlo) {
  torch::manual_seed(11);
  auto mu = torch::tensor({{0.3, -1.2, 2.0}}, torch::kFloat64);
  auto logvar = torch::tensor({{-0.5, 0.7, -2.0}}, torch::kFloat64);
  const double closed = models::kl_standard_normal(mu, logvar).item<double>();
  const int64_t n = 400000;
  auto eps = torch::randn({n, 3}, torch::kFloat64);
  auto z = mu + torch::exp(0.5 * logvar) * eps;
  auto zeros = torch::zeros_like(mu);
  auto diff = eval::log_normal(z, mu, logvar) - eval::log_normal(z, zeros, zeros);  // log q - log p
  const double mc = diff.mean().item<double>();
  const double se = diff.std().item<double>() / std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(closed, mc, 4 * se) << "closed " << closed << " mc " << mc << " se " << se;
  // And against the scalar formula written out by hand for one dimension.
  EXPECT_NEAR(models::kl_standard_normal_per_dim(mu, logvar)[0][0].item<double>(),
              0.5 * (0.09 + std::exp(-0.5) - 1 + 0.5), 1e-12);
  // KL of the prior with itself is zero.
  EXPECT_EQ(models::kl_standard_normal(zeros, zeros).item<double>(), 0.0);
}

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

// With Z = 1 the marginal p(x|c) = int p(x|z,c) N(z; 0, 1) dz can be computed by
// quadrature; the IWAE estimate with many samples must approach it from above
// (in -log terms: iw_nll >= exact - noise), and beat the ELBO.
TEST(IwaeBound, ApproachesExactMarginalLikelihood) {
  torch::manual_seed(5);
  auto cfg = tiny_config({3}, 2, {6}, 1);
  models::CVAE model(cfg);
  model->to(torch::kFloat64);
  model->eval();
  auto x = torch::tensor({{1.0, 0.0, 1.0}, {0.0, 0.0, 1.0}}, torch::kFloat64);
  auto y = torch::tensor({0, 1}, torch::kInt64).view({2, 1});
  auto c = data::encode_conditions(cfg.conditions, y).to(torch::kFloat64);
  torch::NoGradGuard ng;

  // Exact: trapezoid rule on z in [-10, 10].
  const int64_t grid = 20001;
  auto z = torch::linspace(-10, 10, grid, torch::kFloat64).view({grid, 1});
  const double dz = 20.0 / (grid - 1);
  for (int64_t i = 0; i < 2; ++i) {
    auto logits = model->decode(z, c[i].unsqueeze(0).expand({grid, -1}));
    auto log_px = -model->likelihood().nll(logits, x[i].unsqueeze(0).expand({grid, -1}));
    auto log_pz = -0.5 * z.view({-1}).pow(2) - 0.5 * std::log(2 * M_PI);
    const double exact = -(torch::logsumexp(log_px + log_pz, 0).item<double>() + std::log(dz));

    auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
    auto xi = x[i].unsqueeze(0), ci = c[i].unsqueeze(0);
    const double iw_many =
        eval::iwae_nll(*model, xi, ci, 20000, gen, /*max_rows=*/4096).item<double>();
    // Average single-sample bound (the ELBO) over many draws.
    double elbo = 0;
    for (int r = 0; r < 200; ++r)
      elbo += eval::iwae_nll(*model, xi, ci, 1, gen).item<double>() / 200;
    EXPECT_NEAR(iw_many, exact, 0.02) << "example " << i;
    EXPECT_GE(elbo, exact - 0.02) << "the ELBO is a lower bound on log p, so -ELBO >= -log p";
    EXPECT_LE(iw_many, elbo + 1e-9);
  }
}

TEST(ActiveUnits, CountsDimensionsWithVaryingPosteriorMeans) {
  auto mu = torch::zeros({100, 4});
  mu.select(1, 0).copy_(torch::linspace(-1, 1, 100));        // var ~ 0.34: active
  mu.select(1, 2).copy_(torch::linspace(-0.05, 0.05, 100));  // var ~ 0.0009: inactive
  EXPECT_EQ(eval::active_units(mu), 1);
}

TEST(Conditions, OneHotAndLabelParsing) {
  std::vector<ConditionSpec> conds = {{"accent", "categorical", {"a", "b"}},
                                      {"word", "categorical", {"x", "y", "z"}}};
  auto y = torch::tensor({1, 2}, torch::kInt64).view({1, 2});
  auto c = data::encode_conditions(conds, y);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_TRUE(torch::equal(c, torch::tensor({{0.f, 1.f, 0.f, 0.f, 1.f}})));
  auto rows = data::parse_labels(conds, {"all"});
  EXPECT_EQ(rows.size(0), 6);
  auto one = data::parse_labels(conds, {"word=z+accent=b"});
  EXPECT_TRUE(torch::equal(one, torch::tensor({{1, 2}}, torch::kInt64)));
  EXPECT_EQ(data::label_name(conds, one[0]), "accent=b+word=z");
  try {
    data::parse_labels(conds, {"accent=q+word=x"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("expected one of: a, b"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::parse_labels(conds, {"accent=a"}), ConfigError);  // word missing
  std::vector<ConditionSpec> digits = {{"label", "categorical", {"0", "1", "2"}}};
  EXPECT_TRUE(torch::equal(data::parse_labels(digits, {"2,0"}).view({-1}),
                           torch::tensor({2, 0}, torch::kInt64)));
  EXPECT_THROW(data::parse_labels(digits, {"3"}), ConfigError);
}

}  // namespace
}  // namespace cvae
