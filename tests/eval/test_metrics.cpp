// eval/metrics.cpp: the IWAE bound against exact integration, and the active
// units count.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

// With Z = 1 the marginal p(x|c) = int p(x|z,c) N(z; 0, 1) dz can be computed by
// quadrature; the IWAE estimate with many samples must approach it from above
// (in -log terms: iw_nll >= exact - noise), and beat the ELBO.
TEST(IwaeBound, ApproachesExactMarginalLikelihood) {
  torch::manual_seed(5);
  auto cfg = testing::toy_model_config({3}, 2, {6}, 1);
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

}  // namespace
}  // namespace cvae
