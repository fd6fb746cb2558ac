// Evaluation metrics for a trained CVAE.
//
// Shapes: B batch, S... per-example shape, D features, Z latent, C condition width, K importance
// samples.
#pragma once

#include <torch/torch.h>

#include "models/cvae_model.h"

namespace cvae::eval {

// Importance-sampled estimate of -log p(x | c) (the IWAE bound, Burda et al. 2016, eq. 8):
//   log p(x|c) >= E[ log (1/K) sum_k p(x|z_k,c) p(z_k) / q(z_k|x,c) ],  z_k ~ q(z|x,c).
// The K samples are processed in chunks of at most max_rows decoded examples,
// with a running log-sum-exp, so memory stays flat for any K.
// x (B, S...), c (B, C) -> (B,) nats
torch::Tensor iwae_nll(models::CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& c,
                       int64_t k, at::Generator& gen, int64_t max_rows = 16384);

// log N(z; mu, exp(logvar)) summed over Z: (..., Z) -> (...)
torch::Tensor log_normal(const torch::Tensor& z, const torch::Tensor& mu,
                         const torch::Tensor& logvar);

// Active units: models::active_units (models/cvae_model.h), which training reports too.
using models::active_units;

}  // namespace cvae::eval
