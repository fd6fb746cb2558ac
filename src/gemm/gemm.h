// Single-precision matrix products for the hand-written training step, on raw
// row-major arrays and free of torch. They use oneDNN's sgemm where the build
// found it (CVAE_HAVE_DNNL; about 10-15% faster than OpenBLAS at the step's
// shapes on the machines of docs/performance.md), else the system CBLAS.
// Called inside a parallel region, either runs on the calling thread alone.
#pragma once

#include <cstdint>

namespace cvae::kernels {

// c (m x n, row stride ldc) = alpha * op(a) op(b) + beta * c, where op(a) is
// a (m x k, row stride lda) or, with trans_a, the transpose of a (k x m), and
// likewise op(b) (k x n). beta = 0 ignores what c held (NaN included).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// "oneDNN" or "CBLAS": which library sgemm calls.
const char* sgemm_library();

}  // namespace cvae::kernels
