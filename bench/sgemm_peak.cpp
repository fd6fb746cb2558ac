// Rate of a large single-precision matrix product on T threads from each BLAS
// the build can call directly, OpenBLAS (CBLAS, libblas.so.3) and oneDNN
// (dnnl_sgemm, when the build found it), and the time of one training step's
// own matrix products, split by units as the fused step splits them (through
// gemm/gemm.h). Built as
// build/bin/cvae_sgemm_peak; scripts/bench.sh runs it next to
// bench/matmul_peak.py and takes the fastest large product as the machine's
// practical limit.
//
//   build/bin/cvae_sgemm_peak --threads 2 [--n 2048] [--reps 7] [--json FILE]
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifdef CVAE_HAVE_DNNL
#include <dnnl.h>
#endif

#include "gemm/gemm.h"

namespace {

double median_seconds(const std::function<void()>& f, int reps, std::vector<double>* all) {
  f();  // two warm-ups (oneDNN compiles its kernels on the first call)
  f();
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (all) *all = ts;
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int positive(const char* what, const char* v) {
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || x < 1 || x > 100000) {
    std::fprintf(stderr, "cvae_sgemm_peak: %s takes a positive integer (got '%s')\n", what, v);
    std::exit(2);
  }
  return static_cast<int>(x);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, n = 2048, reps = 7, batch = 128;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc && (a == "--threads" || a == "--n" || a == "--reps" || a == "--json")) {
      std::fprintf(stderr, "cvae_sgemm_peak: %s needs a value\n", a.c_str());
      return 2;
    }
    if (a == "--threads")
      threads = positive("--threads", argv[++i]);
    else if (a == "--n")
      n = positive("--n", argv[++i]);
    else if (a == "--reps")
      reps = positive("--reps", argv[++i]);
    else if (a == "--json")
      json = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: cvae_sgemm_peak [--threads T] [--n N] [--reps R] [--json FILE]\n");
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  omp_set_num_threads(threads);  // OpenBLAS-openmp and oneDNN both follow OpenMP's count

  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n), c(size_t(n) * n);
  for (auto& v : a) v = normal(rng);
  for (auto& v : b) v = normal(rng);
  const double flops = 2.0 * n * double(n) * n;

  struct Rate {
    std::string library;
    double seconds;
    std::vector<double> all;
  };
  std::vector<Rate> rates;
  {
    Rate r{"CBLAS cblas_sgemm (libblas.so.3: OpenBLAS on Debian with libopenblas0)", 0, {}};
    r.seconds = median_seconds(
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n,
                      b.data(), n, 0.0f, c.data(), n);
        },
        reps, &r.all);
    rates.push_back(r);
  }
#ifdef CVAE_HAVE_DNNL
  {
    Rate r{"oneDNN dnnl_sgemm (libdnnl.so)", 0, {}};
    r.seconds = median_seconds(
        [&] { dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); },
        reps, &r.all);
    rates.push_back(r);
  }
#endif

  // One step's products of the default model (hidden 512,256, latent 8, 10 labels)
  // at this batch, each layer's split into `threads` shares of output (forward,
  // weight gradient) or input (input gradient) units on 8-float boundaries, one
  // share per thread at once, much as src/train/fused_mlp.cpp makes them (the
  // step splits the latent heads' forward by rows and needs only the latent
  // columns of the decoder's first input gradient: under 1% of the FLOPs).
  struct Layer {
    int in, out;
    bool grad_input;
  };
  const std::vector<Layer> layers = {{794, 512, false}, {512, 256, true}, {256, 8, true},
                                     {256, 8, true},    {18, 256, true},  {256, 512, true},
                                     {512, 784, true}};
  std::vector<std::vector<float>> w, x, g, y, gw, gx;
  for (const auto& l : layers) {
    w.emplace_back(size_t(l.out) * l.in, 0.01f);
    x.emplace_back(size_t(batch) * l.in, 0.5f);
    g.emplace_back(size_t(batch) * l.out, 0.1f);
    y.emplace_back(size_t(batch) * l.out);
    gw.emplace_back(size_t(l.out) * l.in);
    gx.emplace_back(size_t(batch) * l.in);
  }
  double step_flops = 0;
  for (const auto& l : layers) step_flops += 2.0 * batch * l.in * l.out * (l.grad_input ? 3 : 2);
  auto share = [&](int units, int t) {
    int chunk = (units + threads - 1) / threads;
    chunk = (chunk + 7) / 8 * 8;
    const int u0 = std::min(units, t * chunk);
    return std::make_pair(u0, std::min(units, u0 + chunk));
  };
  auto step = [&] {
    for (size_t i = 0; i < layers.size(); ++i) {
      const Layer& l = layers[i];
#pragma omp parallel num_threads(threads)
      {
        const int t = omp_get_thread_num();
        const auto [o0, o1] = share(l.out, t);
        using cvae::kernels::sgemm;
        if (o1 > o0) {
          sgemm(false, true, batch, o1 - o0, l.in, 1.0f, x[i].data(), l.in,
                w[i].data() + size_t(o0) * l.in, l.in, 0.0f, y[i].data() + o0, l.out);
          sgemm(true, false, o1 - o0, l.in, batch, 1.0f, g[i].data() + o0, l.out, x[i].data(), l.in,
                0.0f, gw[i].data() + size_t(o0) * l.in, l.in);
        }
        const auto [i0, i1] = share(l.in, t);
        if (l.grad_input && i1 > i0)
          sgemm(false, false, batch, i1 - i0, l.out, 1.0f, g[i].data(), l.out, w[i].data() + i0,
                l.in, 0.0f, gx[i].data() + i0, l.in);
      }
    }
  };
  std::vector<double> step_all;
  const int inner = 50;
  const double step_seconds = median_seconds(
                                  [&] {
                                    for (int k = 0; k < inner; ++k) step();
                                  },
                                  reps, &step_all) /
                              inner;

  for (const auto& r : rates)
    std::fprintf(stderr, "sgemm peak: %.1f GFLOP/s (%s, %dx%d @ %dx%d float32, %d threads)\n",
                 flops / r.seconds / 1e9, r.library.c_str(), n, n, n, n, threads);
  std::fprintf(
      stderr, "model-shaped GEMMs of one fused step at batch %d (%s): %.2f ms, %.1f GFLOP/s\n",
      batch, cvae::kernels::sgemm_library(), step_seconds * 1e3, step_flops / step_seconds / 1e9);
  if (!json.empty()) {
    FILE* f = std::fopen(json.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "cvae_sgemm_peak: cannot write %s: %s\n", json.c_str(),
                   std::strerror(errno));
      return 1;
    }
    std::fprintf(f, "{\n \"threads\": %d,\n \"n\": %d,\n \"reps\": %d,\n \"peaks\": [\n", threads,
                 n, reps);
    for (size_t i = 0; i < rates.size(); ++i)
      std::fprintf(f,
                   "  {\"library\": \"%s\", \"seconds\": %.9g, \"seconds_all\": %s, \"gflops\": "
                   "%.6g}%s\n",
                   rates[i].library.c_str(), rates[i].seconds, json_list(rates[i].all).c_str(),
                   flops / rates[i].seconds / 1e9, i + 1 < rates.size() ? "," : "");
    std::fprintf(f,
                 " ],\n \"step_library\": \"%s\",\n \"gemm_batch\": %d,\n"
                 " \"gemm_seconds_per_step\": %.9g,\n \"gemm_flops_per_step\": %.9g,\n"
                 " \"gemm_gflops_model_shapes\": %.6g\n}\n",
                 cvae::kernels::sgemm_library(), batch, step_seconds, step_flops,
                 step_flops / step_seconds / 1e9);
    if (std::fclose(f) != 0) {
      std::fprintf(stderr, "cvae_sgemm_peak: cannot write %s\n", json.c_str());
      return 1;
    }
  }
  return 0;
}
