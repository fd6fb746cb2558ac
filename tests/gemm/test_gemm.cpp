// kernels::sgemm (gemm/gemm.h) against plain loops in double. Torch-free, and
// built twice when the build found oneDNN (tests/CMakeLists.txt): once with the
// library the training step uses (oneDNN) and once with the CBLAS fallback, so
// both paths are tested on every run.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gemm/gemm.h"

namespace cvae {
namespace {

struct Matrix {
  int64_t rows, cols, ld;
  std::vector<float> v;
  float& at(int64_t i, int64_t j) { return v[static_cast<size_t>(i * ld + j)]; }
};

// rows x cols inside a buffer with row stride cols + pad, filled from N(0, 1).
Matrix random_matrix(int64_t rows, int64_t cols, int64_t pad, std::mt19937& rng) {
  Matrix m{rows, cols, cols + pad, {}};
  m.v.resize(static_cast<size_t>(std::max<int64_t>(rows, 1) * m.ld));
  std::normal_distribution<float> normal;
  for (auto& x : m.v) x = normal(rng);
  return m;
}

// c = op(a) op(b) + beta c on sub-blocks of wider buffers, against loops in
// double; the padding columns of c must stay as they were.
void check(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float beta) {
  const std::string what = std::string(ta ? "T" : "N") + (tb ? "T" : "N") + " " +
                           std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                           " beta " + std::to_string(beta) + " (" + kernels::sgemm_library() + ")";
  std::mt19937 rng(static_cast<uint32_t>(m * 10007 + n * 101 + k));
  Matrix a = ta ? random_matrix(k, m, 3, rng) : random_matrix(m, k, 3, rng);
  Matrix b = tb ? random_matrix(n, k, 5, rng) : random_matrix(k, n, 5, rng);
  Matrix c = random_matrix(m, n, 2, rng);
  if (beta == 0) std::fill(c.v.begin(), c.v.end(), std::numeric_limits<float>::quiet_NaN());
  const Matrix c0 = c;
  kernels::sgemm(ta, tb, m, n, k, 1.0f, a.v.data(), a.ld, b.v.data(), b.ld, beta, c.v.data(), c.ld);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t p = 0; p < k; ++p)
        want += double(ta ? a.at(p, i) : a.at(i, p)) * double(tb ? b.at(j, p) : b.at(p, j));
      if (beta != 0) want += double(beta) * double(c0.v[static_cast<size_t>(i * c.ld + j)]);
      ASSERT_NEAR(c.at(i, j), want, 1e-5 * double(k + 1)) << what << " at " << i << "," << j;
    }
    for (int64_t j = n; j < c.ld; ++j) {
      const float before = c0.v[static_cast<size_t>(i * c.ld + j)], after = c.at(i, j);
      ASSERT_TRUE(after == before || (std::isnan(after) && std::isnan(before)))
          << what << ": padding column " << j << " of row " << i << " was written";
    }
  }
}

TEST(Sgemm, MatchesLoopsForEveryTranspositionStrideAndBeta) {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        check(ta, tb, 13, 17, 29, beta);
        check(ta, tb, 128, 40, 64, beta);  // the step's batch of 128 rows
        check(ta, tb, 1, 8, 3, beta);
      }
}

TEST(Sgemm, AnEmptySumScalesC) {
  // k = 0: c = beta c, and beta = 0 clears c even where it held NaN.
  check(false, false, 4, 6, 0, 0.5f);
  check(false, true, 4, 6, 0, 0.0f);
  // No rows or columns: nothing is touched (null pointers included).
  kernels::sgemm(false, false, 0, 5, 3, 1.0f, nullptr, 3, nullptr, 5, 0.0f, nullptr, 5);
  kernels::sgemm(false, false, 5, 0, 3, 1.0f, nullptr, 3, nullptr, 1, 0.0f, nullptr, 1);
}

// tests/CMakeLists.txt names the library each build of this file must call.
TEST(Sgemm, NamesItsLibrary) {
  EXPECT_EQ(std::string(kernels::sgemm_library()), CVAE_EXPECT_SGEMM_LIBRARY);
}

}  // namespace
}  // namespace cvae
