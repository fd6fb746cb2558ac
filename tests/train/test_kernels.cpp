// The torch-free pieces of the fused training step: the Bernoulli likelihood
// kernel against double-precision softplus and sigmoid, and the sgemm wrapper
// against torch::mm.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "train/gemm.h"
#include "train/kernels.h"

namespace cvae {
namespace {

double softplus_exact(double l) {
  return l > 0 ? l + std::log1p(std::exp(-l)) : std::log1p(std::exp(l));
}
double sigmoid_exact(double l) { return 1.0 / (1.0 + std::exp(-l)); }

// One logit at a time (a 1 x 1 block, x = 0): row_loss = softplus(l), g = sigmoid(l).
std::pair<float, float> one(float l) {
  float g = 0, loss = 0;
  const float x = 0;
  kernels::bernoulli_rows(&g, 1, &l, 1, &x, 1, 1, 1, 1.0f, &loss);
  return {loss, g};
}

TEST(BernoulliKernel, SoftplusAndSigmoidWithinAFewUlpsOverTheWholeRange) {
  // float's unit roundoff is 2^-24 = 6e-8: allow 4 of it, relative.
  const double tol = 4 * std::ldexp(1.0, -24);
  double worst_sp = 0, worst_sig = 0;
  for (int i = 0; i <= 400000; ++i) {
    const float l = -100.0f + 200.0f * static_cast<float>(i) / 400000.0f;
    const auto [sp, sig] = one(l);
    const double want_sp = softplus_exact(l), want_sig = sigmoid_exact(l);
    // Below about -87 both are under float's normal range (flushed to zero by
    // the trainer anyway): there an absolute error of a normal float's size is fine.
    if (want_sp > 1e-37)
      worst_sp = std::max(worst_sp, std::abs(sp - want_sp) / want_sp);
    else
      EXPECT_LE(std::abs(sp - want_sp), 2e-38) << l;
    if (want_sig > 1e-37)
      worst_sig = std::max(worst_sig, std::abs(sig - want_sig) / want_sig);
    else
      EXPECT_LE(std::abs(sig - want_sig), 2e-38) << l;
  }
  EXPECT_LE(worst_sp, tol);
  EXPECT_LE(worst_sig, tol);
  // Points where a formula would switch branch or lose digits.
  for (float l : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.3465736f, -0.3465736f, 20.0f, -20.0f, 88.0f, -88.0f,
                  1e30f, -1e30f}) {
    const auto [sp, sig] = one(l);
    EXPECT_NEAR(sp, softplus_exact(l), tol * softplus_exact(l) + 2e-38) << l;
    EXPECT_NEAR(sig, sigmoid_exact(l), tol * sigmoid_exact(l) + 2e-38) << l;
  }
}

TEST(BernoulliKernel, NonFiniteLogitsGiveNonFiniteLossAndGradient) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto [sp, sig] = one(nan);
  EXPECT_TRUE(std::isnan(sp));
  EXPECT_TRUE(std::isnan(sig));
  // An infinite logit makes the loss non-finite too (x l is 0 * inf), so the
  // trainer's finiteness check stops there; the sigmoid saturates.
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(std::isfinite(one(inf).first));
  EXPECT_EQ(one(inf).second, 1.0f);
  EXPECT_FALSE(std::isfinite(one(-inf).first));
  EXPECT_EQ(one(-inf).second, 0.0f);
}

TEST(BernoulliKernel, RowsMatchTorchsBinaryCrossEntropyAndItsGradient) {
  // 5 rows of 37 columns (two full vectors of 16 and a tail) inside wider
  // buffers (row strides 40, 41, 43), targets in [0, 1].
  const int64_t rows = 5, cols = 37;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto l_buf = torch::randn({rows, 40}, gen) * 6;
  auto x_buf = torch::rand({rows, 41}, gen);
  x_buf.narrow(1, 0, 10).round_();  // some exact 0/1 targets
  auto g_buf = torch::full({rows, 43}, 99.0f);
  std::vector<float> loss(rows);
  const float scale = 0.25f;
  kernels::bernoulli_rows(g_buf.data_ptr<float>(), 43, l_buf.data_ptr<float>(), 40,
                          x_buf.data_ptr<float>(), 41, rows, cols, scale, loss.data());
  auto l = l_buf.narrow(1, 0, cols).to(torch::kFloat64).requires_grad_();
  auto x = x_buf.narrow(1, 0, cols).to(torch::kFloat64);
  auto per_row = torch::binary_cross_entropy_with_logits(l, x, {}, {}, at::Reduction::None).sum(1);
  (per_row.sum() * scale).backward();
  for (int64_t i = 0; i < rows; ++i)
    EXPECT_NEAR(loss[i], per_row[i].item<double>(), 1e-6 * per_row[i].item<double>())
        << "row " << i;
  const auto g = g_buf.narrow(1, 0, cols).to(torch::kFloat64);
  EXPECT_LE((g - l.grad()).abs().max().item<double>(), 1e-7);
  // Columns past `cols` are left alone.
  EXPECT_TRUE(g_buf.narrow(1, cols, 43 - cols).eq(99.0f).all().item<bool>());
}

// c = op(a) op(b) + beta c through kernels::sgemm on sub-blocks of wider
// buffers, against torch::mm in double.
void check_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float beta) {
  const std::string what = std::string(ta ? "T" : "N") + (tb ? "T" : "N") + " " +
                           std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                           " beta " + std::to_string(beta);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(m * 100 + n * 10 + k);
  const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  auto a = torch::randn({std::max<int64_t>(ar, 1), ac + 3}, gen);
  auto b = torch::randn({std::max<int64_t>(br, 1), bc + 5}, gen);
  auto c = torch::randn({std::max<int64_t>(m, 1), n + 2}, gen);
  if (beta == 0) c.fill_(std::numeric_limits<float>::quiet_NaN());  // must be ignored
  auto c0 = c.clone();
  kernels::sgemm(ta, tb, m, n, k, 1.0f, a.data_ptr<float>(), a.size(1), b.data_ptr<float>(),
                 b.size(1), beta, c.data_ptr<float>(), c.size(1));
  auto opa = a.narrow(0, 0, ar).narrow(1, 0, ac).to(torch::kFloat64);
  auto opb = b.narrow(0, 0, br).narrow(1, 0, bc).to(torch::kFloat64);
  if (ta) opa = opa.t();
  if (tb) opb = opb.t();
  auto want = torch::mm(opa, opb);
  if (beta != 0) want = want + beta * c0.narrow(0, 0, m).narrow(1, 0, n).to(torch::kFloat64);
  const auto got = c.narrow(0, 0, m).narrow(1, 0, n).to(torch::kFloat64);
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-4 * std::max<int64_t>(k, 1)) << what;
  // The two columns beyond n are untouched.
  EXPECT_TRUE(c.narrow(1, n, 2).equal(c0.narrow(1, n, 2)) ||
              (beta == 0 && c.narrow(1, n, 2).isnan().all().item<bool>()))
      << what;
}

TEST(Sgemm, MatchesTorchForEveryTranspositionStrideAndBeta) {
  SCOPED_TRACE(kernels::sgemm_library());
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        check_sgemm(ta, tb, 13, 17, 29, beta);
        check_sgemm(ta, tb, 128, 40, 64, beta);
        check_sgemm(ta, tb, 1, 8, 3, beta);
      }
}

TEST(Sgemm, AnEmptySumScalesC) {
  // k = 0: c = beta c, and beta = 0 clears c even where it held NaN.
  check_sgemm(false, false, 4, 6, 0, 0.5f);
  check_sgemm(false, true, 4, 6, 0, 0.0f);
  // No rows or columns: nothing is written (a null pointer is not touched).
  kernels::sgemm(false, false, 0, 5, 3, 1.0f, nullptr, 3, nullptr, 5, 0.0f, nullptr, 5);
  kernels::sgemm(false, false, 5, 0, 3, 1.0f, nullptr, 3, nullptr, 1, 0.0f, nullptr, 1);
}

}  // namespace
}  // namespace cvae
