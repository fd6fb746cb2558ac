// The Bernoulli likelihood kernel of the fused training step against
// double-precision softplus and sigmoid, and against torch's BCE with logits.
// (The sgemm wrapper: tests/gemm/test_gemm.cpp.)
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "train/kernels.h"

namespace cvae {
namespace {

double softplus_exact(double l) {
  return l > 0 ? l + std::log1p(std::exp(-l)) : std::log1p(std::exp(l));
}
double sigmoid_exact(double l) { return 1.0 / (1.0 + std::exp(-l)); }

// softplus(l) and sigmoid(l) of each logit as the kernel computes them: logit
// i sits in its own row of 53 columns, at column i % 53 (the first 48 columns
// go through the 16-wide vector loop, the last 5 through the remainder loop),
// with -200 in the other columns (softplus(-200) is 0 in float) and x = 0, so
// the row's loss is softplus(l) and the column's gradient sigmoid(l).
std::vector<std::pair<float, float>> through_rows(const std::vector<float>& logits) {
  const int64_t cols = 53, rows = static_cast<int64_t>(logits.size());
  std::vector<float> l(static_cast<size_t>(rows * cols), -200.0f), x(l.size(), 0.0f), g(l.size()),
      loss(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i)
    l[static_cast<size_t>(i * cols + i % cols)] = logits[static_cast<size_t>(i)];
  kernels::bernoulli_rows(g.data(), cols, l.data(), cols, x.data(), cols, rows, cols, 1.0f,
                          loss.data());
  std::vector<std::pair<float, float>> out;
  for (int64_t i = 0; i < rows; ++i)
    out.emplace_back(loss[static_cast<size_t>(i)], g[static_cast<size_t>(i * cols + i % cols)]);
  return out;
}

TEST(BernoulliKernel, SoftplusAndSigmoidWithinAFewUlpsOverTheWholeRange) {
  // float's unit roundoff is 2^-24 = 6e-8: allow 4 of it, relative.
  const double tol = 4 * std::ldexp(1.0, -24);
  std::vector<float> logits;
  for (int i = 0; i <= 400000; ++i)
    logits.push_back(-100.0f + 200.0f * static_cast<float>(i) / 400000.0f);
  // Points where a formula would switch branch or lose digits.
  for (float l : {0.0f, -0.0f, 1e-8f, -1e-8f, 0.3465736f, -0.3465736f, 20.0f, -20.0f, 87.3f, -87.3f,
                  88.0f, -88.0f, 1e30f, -1e30f})
    logits.push_back(l);
  const auto got = through_rows(logits);
  double worst_sp = 0, worst_sig = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double l = logits[i], want_sp = softplus_exact(l), want_sig = sigmoid_exact(l);
    const auto [sp, sig] = got[i];
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
}

TEST(BernoulliKernel, NonFiniteLogitsGiveNonFiniteLossAndGradient) {
  // Each value at every column position, so both loops see it.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {nan, inf, -inf}) {
    const auto got = through_rows(std::vector<float>(53, v));
    for (size_t i = 0; i < got.size(); ++i) {
      const auto [sp, sig] = got[i];
      // An infinite logit makes the loss non-finite too (x l is 0 * inf), so
      // the trainer's finiteness check stops there; the sigmoid saturates.
      EXPECT_FALSE(std::isfinite(sp)) << v << " at column " << i;
      if (std::isnan(v))
        EXPECT_TRUE(std::isnan(sig)) << "column " << i;
      else
        EXPECT_EQ(sig, v > 0 ? 1.0f : 0.0f) << v << " at column " << i;
    }
  }
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

}  // namespace
}  // namespace cvae
