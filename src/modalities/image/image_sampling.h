// Images from a trained model: samples, transfers, and the writers that turn
// decoder output into PNG grids and IDX files.
//
// Shapes: N samples, C x H x W per image, K conditions.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "io/labels.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::modalities::image {

// Draws n samples per label row: z from sample_latent, x = mean (or a draw) of
// p(x | z, c). rows (M, K) label indices -> (M*n, S...), label-major. With
// candidates > 1, each sample is the best of that many (best_of).
torch::Tensor sample(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                     double temperature, at::Generator& gen, bool sample_pixels,
                     const models::LatentMixture& mixture = {}, int64_t candidates = 1);

// The prior sampler of an MLP image model with a Bernoulli likelihood
// (lite::sampler_supports), through the torch-free code that `cvae generate`
// runs without libtorch (lite/mlp_sampler.h): n mean images per row, the noise
// from lite::NormalStream(seed). rows M label-index rows -> (M*n, S...).
torch::Tensor sample_mlp_images(models::CVAEImpl& model, const io::LabelRows& rows, int64_t n,
                                double temperature, uint64_t seed);

// Encodes x with its own labels (posterior mean z) and decodes it with each
// target row: x (N, S...), y (N, K), targets (T, K) -> (N, T, S...).
// z is carried from the source label's region of latent space to the target's
// before decoding, so that what z holds of the label itself is replaced:
//  - with a mixture: z' = m_t + L_t L_s^-1 (z - m_s), (m, L L^T) the
//    moment-matched Gaussian of each label's mixture (the aggregate posterior);
//  - with a learned prior: z' = mu_p(t) + sigma_p(t) / sigma_p(s) * (z - mu_p(s));
//  - with the standard prior: z' = z.
torch::Tensor transfer(models::CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& y,
                       const torch::Tensor& targets, const models::LatentMixture& mixture = {});

// (N, S...) in [0, 1] -> bytes, values rounded to 0..255 (lite::to_bytes).
std::vector<uint8_t> to_bytes(const torch::Tensor& images);

// Writes images (N, C, H, W) in [0, 1] as a PNG grid of rows x cols tiles.
void write_png_grid(const std::string& path, const torch::Tensor& images, int64_t rows,
                    int64_t cols);

// Writes images and a label per image as PREFIX-images-idx3-ubyte and
// PREFIX-labels-idx1-ubyte (the MNIST layout; colour images as N x C x H x W).
// Returns the two paths.
std::vector<std::string> write_idx_pair(const std::string& prefix, const torch::Tensor& images,
                                        const torch::Tensor& labels);

}  // namespace cvae::modalities::image
