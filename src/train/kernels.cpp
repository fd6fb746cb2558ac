#include "train/kernels.h"

#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#define CVAE_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CVAE_CPU_CLONES
#endif
// Inlined into each clone, so that the helpers vectorise with the caller.
#define CVAE_ALWAYS_INLINE __attribute__((always_inline))

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

namespace {

// exp(x) for x <= 0, within about 2 float ulps (below -87.3 it returns 0; a
// NaN x gives some value in (0, 1]: callers carry NaN on themselves): x =
// n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6 polynomial (Cephes'
// expf coefficients), times 2^n built in the exponent bits. Branch-free, so it
// vectorises.
inline CVAE_ALWAYS_INLINE float exp_nonpositive(float x) {
  const bool underflow = x < -87.3f;
  x = x >= -87.3f ? x : -87.3f;  // and NaN, so that n below converts to an int
  // n = round(x / ln2), by the 1.5 * 2^23 trick (exact for |n| < 2^22).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln2 in two parts
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * z + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n, n in [-126, 0]
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return underflow ? 0.0f : e * scale;
}

// log(1 + e) for e in [0, 1], given u = 1 + e (rounded) and r = 1 / u,
// within about 2 float ulps: log(u) = k ln2 + log(f) with f = u or u / 2 in
// [sqrt(1/2), sqrt(2)] (Cephes' logf polynomial), plus the rounding of u
// corrected to first order, (e - (u - 1)) / u.
inline CVAE_ALWAYS_INLINE float log1p_unit(float e, float u, float r) {
  const bool half = u > 1.41421356f;
  const float k = half ? 1.0f : 0.0f;
  const float x = (half ? u * 0.5f : u) - 1.0f;  // exact
  const float z = x * x;
  float p = 7.0376836292e-2f;
  p = p * x - 1.1514610310e-1f;
  p = p * x + 1.1676998740e-1f;
  p = p * x - 1.2420140846e-1f;
  p = p * x + 1.4249322787e-1f;
  p = p * x - 1.6668057665e-1f;
  p = p * x + 2.0000714765e-1f;
  p = p * x - 2.4999993993e-1f;
  p = p * x + 3.3333331174e-1f;
  float y = p * x * z + k * -2.12194440e-4f - 0.5f * z;
  const float log_u = (x + y) + k * 0.693359375f;
  return log_u + (e - (u - 1.0f)) * r;
}

}  // namespace

CVAE_CPU_CLONES void bernoulli_rows(float* __restrict g, int64_t ld_g, const float* __restrict l,
                                    int64_t ld_l, const float* __restrict x, int64_t ld_x,
                                    int64_t rows, int64_t cols, float scale,
                                    float* __restrict row_loss) {
  constexpr int kLanes = 16;
  // One column of a row: from e = exp(-|l|) in (0, 1],
  //   softplus(l) = max(l, 0) + log1p(e), sigmoid(l) = 1 / (1 + e) or e / (1 + e).
  auto term = [](float li, float xi, float& gi, float s) CVAE_ALWAYS_INLINE {
    const float e = exp_nonpositive(li < 0.0f ? li : -li);
    const float u = 1.0f + e, r = 1.0f / u;
    const float sig = li >= 0.0f ? r : (li < 0.0f ? e * r : li);  // NaN stays NaN
    gi = (sig - xi) * s;
    return ((li > 0.0f ? li : 0.0f) + log1p_unit(e, u, r)) - xi * li;
  };
  for (int64_t i = 0; i < rows; ++i) {
    float* gr = g + i * ld_g;
    const float* lr = l + i * ld_l;
    const float* xr = x + i * ld_x;
    float acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int k = 0; k < kLanes; ++k) acc[k] += term(lr[j + k], xr[j + k], gr[j + k], scale);
    float total = 0;
    for (; j < cols; ++j) total += term(lr[j], xr[j], gr[j], scale);
    for (int k = 0; k < kLanes; ++k) total += acc[k];
    row_loss[i] = total;
  }
}

}  // namespace cvae::kernels
