// models/latent_density.cpp: the per-label Gaussian mixtures in latent space
// recover known clusters, move points between labels, round-trip and reject bad
// input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/latent_density.h"
#include "support/expect_error.h"

namespace cvae {
namespace {

using testing::error_of;

// Label 0: two clusters at (-3, 0) and (3, 0), sd 0.5; label 1: one at (0, 5), sd (1, 0.2).
struct Synthetic {
  torch::Tensor z, y;
};

Synthetic synthetic(int64_t n) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(17);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto a = torch::randn({n, 2}, gen, opts) * 0.5;
  a.select(1, 0).add_(torch::where(torch::arange(n) % 2 == 0, -3.0, 3.0));
  auto b = torch::randn({n, 2}, gen, opts) * torch::tensor({1.0, 0.2}, opts);
  b.select(1, 1).add_(5.0);
  auto y = torch::cat({torch::zeros({n, 1}, torch::kInt64), torch::ones({n, 1}, torch::kInt64)});
  return {torch::cat({a, b}), y};
}

TEST(LatentMixture, RecoversKnownClustersAndSamplesFromThem) {
  auto s = synthetic(2000);
  auto mix = models::fit_latent_mixture(s.z, s.y, 2, 1);
  ASSERT_EQ(mix.rows.size(0), 2);
  // The fitted density is as good as the true one on the training points.
  auto z0 = s.z.slice(0, 0, 2000);
  auto true_log = [&](const torch::Tensor& z) {
    auto l = [&](double mx) {
      return -0.5 * ((z.select(1, 0) - mx).pow(2) + z.select(1, 1).pow(2)) / 0.25 -
             std::log(2 * M_PI * 0.25);
    };
    return (torch::logaddexp(l(-3), l(3)) - std::log(2.0)).mean().item<double>();
  };
  EXPECT_GE(models::mixture_mean_log_likelihood(mix, 0, z0), true_log(z0) - 0.02);

  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto idx = models::mixture_row_index(mix, torch::tensor({{0}, {1}}), {"0", "1"});
  auto draws = models::sample_latent_mixture(mix, idx, 20000, 1.0, gen).to(torch::kFloat64);
  auto d0 = draws.slice(0, 0, 20000), d1 = draws.slice(0, 20000);
  EXPECT_NEAR((d0.select(1, 0) < 0).to(torch::kFloat64).mean().item<double>(), 0.5, 0.03);
  EXPECT_NEAR(d0.select(1, 0).abs().mean().item<double>(), 3.0, 0.05);
  EXPECT_NEAR(d1.select(1, 1).mean().item<double>(), 5.0, 0.03);
  EXPECT_NEAR(d1.select(1, 0).std().item<double>(), 1.0, 0.05);
  EXPECT_NEAR(d1.select(1, 1).std().item<double>(), 0.2, 0.02);
  // Temperature 0: every draw is a component mean.
  auto cold = models::sample_latent_mixture(mix, idx.slice(0, 0, 1), 50, 0.0, gen);
  auto to_means = std::get<0>(torch::cdist(cold.to(torch::kFloat64), mix.means[0]).min(1));
  EXPECT_LE(to_means.max().item<double>(), 1e-5);
  // The moment-matched Gaussian of label 0: mean (0, 0), variance (9.25, 0.25).
  auto [means, chol] = models::mixture_moments(mix);
  auto cov0 = chol[0].mm(chol[0].t());
  EXPECT_NEAR(means[0][0].item<double>(), 0.0, 0.1);
  EXPECT_NEAR(cov0[0][0].item<double>(), 9.25, 0.3);
  EXPECT_NEAR(cov0[1][1].item<double>(), 0.25, 0.03);
}

TEST(LatentMixture, MovesPointsBetweenLabelsByTheirGaussians) {
  auto s = synthetic(2000);
  auto mix = models::fit_latent_mixture(s.z, s.y, 2, 1);
  auto [means, chol] = models::mixture_moments(mix);
  // A point u standard deviations from label 0's mean lands u standard deviations
  // from label 1's mean, along label 1's Cholesky factor.
  auto u = torch::tensor({{0.5, -1.0}, {0.0, 0.0}}, torch::kFloat64);
  auto z = means[0].unsqueeze(0) + u.mm(chol[0].t());
  auto moved = models::move_between_rows(mix, z, torch::tensor({0, 0}), torch::tensor({1, 1}));
  auto expected = means[1].unsqueeze(0) + u.mm(chol[1].t());
  EXPECT_LE((moved.to(torch::kFloat64) - expected).abs().max().item<double>(), 1e-4);
  // To its own label: unchanged.
  auto same = models::move_between_rows(mix, z, torch::tensor({0, 0}), torch::tensor({0, 0}));
  EXPECT_LE((same.to(torch::kFloat64) - z).abs().max().item<double>(), 1e-4);
}

TEST(LatentMixture, RoundTripAndBadInput) {
  auto s = synthetic(200);
  auto mix = models::fit_latent_mixture(s.z, s.y, 3, 1);
  auto back = models::mixture_from_bytes(models::mixture_to_bytes(mix), "test");
  EXPECT_TRUE(torch::equal(back.rows, mix.rows));
  EXPECT_TRUE(torch::equal(back.means, mix.means));
  EXPECT_TRUE(torch::equal(back.chol, mix.chol));
  EXPECT_TRUE(torch::equal(back.weights, mix.weights));
  auto msg =
      error_of<ConfigError>([&] { models::mixture_row_index(mix, torch::tensor({{2}}), {"two"}); });
  EXPECT_CONTAINS(msg, "'two'");
  EXPECT_THROW(models::mixture_from_bytes("not a tensor archive", "test"), CheckpointError);
  // A label with a single example gets no mixture; the others still do.
  auto z = torch::randn({5, 2});
  auto y = torch::tensor({{0}, {0}, {0}, {0}, {1}});
  auto few = models::fit_latent_mixture(z, y, 10, 1);
  ASSERT_EQ(few.rows.size(0), 1);
  EXPECT_EQ(few.rows[0][0].item<int64_t>(), 0);
  EXPECT_EQ((few.weights[0] > 0).sum().item<int64_t>(), 4);  // at most one component per point
}

}  // namespace
}  // namespace cvae
