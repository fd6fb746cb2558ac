// models/cvae_model.cpp: the model's maths. The PyTorch twin's fixture (forward,
// loss and gradients), finite-difference gradients of the ELBO, the closed-form
// KL against Monte Carlo, the learned prior, free bits, and the M2 objective of
// semi-supervised training (Kingma et al. 2014) term by term.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"
#include "support/twin_fixture.h"

namespace cvae {
namespace {

TEST(TwinFixture, ForwardLossAndGradientsMatchPyTorch) {
  std::ifstream in(std::string(CVAE_TEST_FIXTURES) + "/twin_tiny.json");
  ASSERT_TRUE(in) << "missing fixture twin_tiny.json";
  nlohmann::json fx = nlohmann::json::parse(in);
  const auto& cfgj = fx["config"];
  auto cfg = testing::toy_model_config(
      cfgj["input_shape"].get<std::vector<int64_t>>(), cfgj["classes"].get<int>(),
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
  auto cfg = testing::toy_model_config({1, 2, 3}, 3, {5, 4}, 2);
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
  auto cfg = testing::toy_model_config({3}, 2);
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
  auto cfg = testing::toy_model_config({4}, 2);
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

ModelConfig ssl_config() {
  ModelConfig cfg;
  cfg.arch = "mlp";
  cfg.prior = "learned";
  cfg.input_shape = {1, 4, 4};
  cfg.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  cfg.hidden = {8};
  cfg.latent = 2;
  cfg.classifier = true;
  return cfg;
}

TEST(M2Loss, MatchesItsDefinitionTermByTerm) {
  torch::manual_seed(4);
  models::CVAE model(ssl_config());
  model->eval();  // no dropout in q(y|x), so both computations see the same q
  auto x_l = torch::rand({2, 1, 4, 4}), x_u = torch::rand({3, 1, 4, 4});
  auto y_l = torch::tensor({2, 0}, torch::kInt64);
  const double beta = 0.7, alpha = 1.3;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
  auto terms = models::m2_loss(*model, x_l, y_l, x_u, gen, beta, alpha);

  // The same noise, drawn in the same order: labelled batch, then U x L rows.
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(8);
  auto eps_l = torch::randn({2, 2}, g2);
  auto eps_u = torch::randn({3 * 3, 2}, g2);
  const auto& conds = model->config().conditions;
  torch::NoGradGuard ng;
  auto labelled = models::elbo_loss(*model, x_l, data::encode_conditions(conds, y_l.view({-1, 1})),
                                    eps_l, beta);
  double expected = labelled.loss.item<double>();
  auto log_q_l = torch::log_softmax(model->classify(x_l), 1);
  expected += alpha * -(log_q_l[0][2] + log_q_l[1][0]).item<double>() / 2;
  double unl = 0;
  auto log_q = torch::log_softmax(model->classify(x_u), 1);
  for (int64_t u = 0; u < 3; ++u) {
    for (int64_t y = 0; y < 3; ++y) {
      auto c = data::encode_conditions(conds, torch::tensor({{y}}));
      auto t =
          models::elbo_loss(*model, x_u[u].unsqueeze(0), c, eps_u[u * 3 + y].unsqueeze(0), beta);
      const double q = std::exp(log_q[u][y].item<double>());
      unl += q * (t.loss_recon.item<double>() + beta * t.loss_kl.item<double>()) +
             q * log_q[u][y].item<double>();
    }
  }
  expected += unl / 3;
  EXPECT_NEAR(terms.loss.item<double>(), expected, 1e-3 * std::abs(expected));
  EXPECT_EQ(terms.loss_recon.size(0), 5);  // 2 labelled + 3 unlabelled
}

TEST(M2Loss, UnlabelledTermTrainsTheClassifier) {
  torch::manual_seed(5);
  models::CVAE model(ssl_config());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto empty = torch::empty({0, 1, 4, 4});
  models::m2_loss(*model, empty, torch::empty({0}, torch::kInt64), torch::rand({4, 1, 4, 4}), gen,
                  1.0, 0.1)
      .loss.backward();
  double norm = 0;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("classifier.", 0) == 0 && p.value().grad().defined())
      norm += p.value().grad().pow(2).sum().item<double>();
  }
  EXPECT_GT(norm, 0.0) << "q(y|x) gets gradient from unlabelled examples alone";
}

}  // namespace
}  // namespace cvae
