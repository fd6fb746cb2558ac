// Numeric loops of the training step over flat float arrays, kept free of torch
// so that they compile on their own with vectorisation for the CPU they run on
// (AVX-512, AVX2 or baseline x86-64, chosen at load time).
#pragma once

#include <cstdint>

namespace cvae::kernels {

struct AdamScalars {
  float beta1, beta2, one_minus_beta1, one_minus_beta2;
  float sqrt_bias_correction2;  // sqrt(1 - beta2^t)
  float neg_step_size;          // -lr / (1 - beta1^t)
  float eps;
  float grad_scale;  // 1, or < 1 when clipping
};

// For i in [0, n), in float32 and in torch::optim::Adam's order of operations:
//   g = grad[i] * grad_scale
//   m[i] = m[i] * beta1 + (1 - beta1) * g;  v[i] = v[i] * beta2 + (1 - beta2) * g * g
//   p[i] += neg_step_size * m[i] / (sqrt(v[i]) / sqrt_bias_correction2 + eps)
void adam_update(float* p, const float* grad, float* m, float* v, int64_t n, const AdamScalars& s);

// sum_i x[i]^2, accumulated in float over blocks of 1024 and in double across blocks.
double sum_squares(const float* x, int64_t n);

// Row-major blocks of `rows` x `cols` floats, row i starting at p + i * ld.

// out[i][j] = bias[j]
void fill_rows(float* out, const float* bias, int64_t rows, int64_t cols, int64_t ld);
// x = max(x, 0) (NaN stays NaN, as torch::relu)
void relu_rows(float* x, int64_t rows, int64_t cols, int64_t ld);
// g = act <= 0 ? 0 : g: ReLU's backward given its output act (as torch's threshold_backward)
void relu_backward_rows(float* g, int64_t ld_g, const float* act, int64_t ld_act, int64_t rows,
                        int64_t cols);
// out[j] = sum_i g[i][j] (float, rows in order)
void column_sums(float* out, const float* g, int64_t rows, int64_t cols, int64_t ld);
// The Bernoulli likelihood with logits l and targets x (BCE with logits):
//   g = (sigmoid(l) - x) * scale
//   row_loss[i] = sum_j softplus(l) - x l, the row's -log p(x | l) over these columns,
// with softplus and sigmoid both from one exp(-|l|) per element, each within a
// few float ulps of the exact value (tests/train/test_kernels.cpp).
void bernoulli_rows(float* g, int64_t ld_g, const float* l, int64_t ld_l, const float* x,
                    int64_t ld_x, int64_t rows, int64_t cols, float scale, float* row_loss);

}  // namespace cvae::kernels
