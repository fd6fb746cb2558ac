// The image sampler of MLP models without torch: z from the prior p(z | c)
// (standard normal, or the learned prior network), then the decoder's mean
// image, with matrix products by the system BLAS (the OpenBLAS that libtorch
// uses too). `cvae generate` runs it without loading libtorch (lite/cli.h),
// and cvae::generate runs the very same code on a loaded model, so both give
// the same images for the same seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cvae/config.h"
#include "io/labels.h"

namespace cvae::lite {

// Whether the sampler can decode this model: an MLP image model (input C x H x
// W) with a Bernoulli likelihood (its mean is sigmoid of the logits).
bool sampler_supports(const ModelConfig& cfg);

// A Linear layer's weights (out x in, row-major) and bias (out), not owned.
struct Dense {
  const float* w = nullptr;
  const float* b = nullptr;
  int64_t in = 0, out = 0;
};

struct MlpDecoder {
  std::vector<Dense> layers;  // [z, c] -> hidden (ReLU) ... -> logits (the last, no ReLU)
  bool learned_prior = false;
  Dense prior_hidden, prior_mu, prior_logvar;  // c -> 128 (ReLU) -> mu, logvar
  int64_t latent = 0, cond_width = 0, features = 0;
  float logvar_min = 0, logvar_max = 0;
  std::vector<int64_t> cond_offsets;  // first one-hot column of each condition
};

// Finds a parameter by its module name ("decoder.out.weight") and shape; it
// throws when the parameter is missing or has another shape.
using ParameterLookup =
    std::function<const float*(const std::string& name, const std::vector<int64_t>& shape)>;
MlpDecoder mlp_decoder(const ModelConfig& cfg, const ParameterLookup& get);

// The decoder's mean for n draws per row (row-major: row 0's n, then row 1's):
// z = mu_p(c) + temperature * exp(logvar_p(c) / 2) * eps, eps (N, Z) from
// NormalStream(seed) in row-major order. Returns N x features values in [0, 1].
std::vector<float> sample_means(const MlpDecoder& dec, const io::LabelRows& rows, int64_t n,
                                double temperature, uint64_t seed);

// x in [0, 1] -> round(x * 255) (half to even), clamped to 0..255: as a PNG stores it.
void to_bytes(const float* x, int64_t n, uint8_t* out);

}  // namespace cvae::lite
