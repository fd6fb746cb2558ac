#include "train/kernels.h"

#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#define CVAE_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CVAE_CPU_CLONES
#endif

namespace cvae::kernels {

// One clone per instruction set; the loader picks the best the CPU has. Each
// element's arithmetic is IEEE single precision either way (no FMA contraction
// (-ffp-contract=off, CMakeLists.txt), and vector sqrt and division are correctly rounded), so
// every clone gives the same bits.
CVAE_CPU_CLONES void adam_update(float* __restrict p, const float* __restrict grad,
                                 float* __restrict m, float* __restrict v, int64_t n,
                                 const AdamScalars& s) {
  const float b1 = s.beta1, b2 = s.beta2, omb1 = s.one_minus_beta1, omb2 = s.one_minus_beta2;
  const float sqrt_bc2 = s.sqrt_bias_correction2, step = s.neg_step_size, eps = s.eps;
  const float scale = s.grad_scale;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = grad[i] * scale;
    const float mi = m[i] * b1 + omb1 * gi;
    const float vi = v[i] * b2 + omb2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / sqrt_bc2 + eps;
    p[i] = p[i] + step * mi / denom;
  }
}

CVAE_CPU_CLONES double sum_squares(const float* __restrict x, int64_t n) {
  constexpr int kLanes = 16;
  double total = 0;
  for (int64_t start = 0; start < n; start += 1024) {
    const int64_t end = start + 1024 < n ? start + 1024 : n;
    float acc[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes)
      for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j] * x[i + j];
    float tail = 0;
    for (; i < end; ++i) tail += x[i] * x[i];
    float block = tail;
    for (int j = 0; j < kLanes; ++j) block += acc[j];
    total += block;
  }
  return total;
}

CVAE_CPU_CLONES void fill_rows(float* __restrict out, const float* __restrict bias, int64_t rows,
                               int64_t cols, int64_t ld) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * ld + j] = bias[j];
}

CVAE_CPU_CLONES void relu_rows(float* __restrict x, int64_t rows, int64_t cols, int64_t ld) {
  for (int64_t i = 0; i < rows; ++i) {
    float* r = x + i * ld;
    for (int64_t j = 0; j < cols; ++j) r[j] = r[j] < 0.0f ? 0.0f : r[j];
  }
}

CVAE_CPU_CLONES void relu_backward_rows(float* __restrict g, int64_t ld_g,
                                        const float* __restrict act, int64_t ld_act, int64_t rows,
                                        int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    float* gr = g + i * ld_g;
    const float* ar = act + i * ld_act;
    for (int64_t j = 0; j < cols; ++j) gr[j] = ar[j] <= 0.0f ? 0.0f : gr[j];
  }
}

CVAE_CPU_CLONES void column_sums(float* __restrict out, const float* __restrict g, int64_t rows,
                                 int64_t cols, int64_t ld) {
  for (int64_t j = 0; j < cols; ++j) out[j] = 0.0f;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[j] += g[i * ld + j];
}

CVAE_CPU_CLONES void bernoulli_rows(float* __restrict sig, int64_t ld_sig,
                                    const float* __restrict sp, int64_t ld_sp,
                                    const float* __restrict l, int64_t ld_l,
                                    const float* __restrict x, int64_t ld_x, int64_t rows,
                                    int64_t cols, float scale, float* __restrict row_loss) {
  constexpr int kLanes = 16;
  for (int64_t i = 0; i < rows; ++i) {
    float* gr = sig + i * ld_sig;
    const float* spr = sp + i * ld_sp;
    const float* lr = l + i * ld_l;
    const float* xr = x + i * ld_x;
    float acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int k = 0; k < kLanes; ++k) {
        acc[k] += spr[j + k] - xr[j + k] * lr[j + k];
        gr[j + k] = (gr[j + k] - xr[j + k]) * scale;
      }
    float total = 0;
    for (; j < cols; ++j) {
      total += spr[j] - xr[j] * lr[j];
      gr[j] = (gr[j] - xr[j]) * scale;
    }
    for (int k = 0; k < kLanes; ++k) total += acc[k];
    row_loss[i] = total;
  }
}

}  // namespace cvae::kernels
