// The generation-only path: sampling, attribute transfer and interpolation
// from a trained model, plus writers that turn decoder output into files.
//
// Shapes: N samples, S... per-example shape, Z latent, C condition width, K conditions.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/cvae_model.h"

namespace cvae::serve {

// Draws n samples per label row: z ~ N(0, temperature^2 I), x = mean (or a draw)
// of p(x | z, c). rows (M, K) label indices -> (M*n, S...) in [0, 1], label-major.
torch::Tensor sample(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                     double temperature, at::Generator& gen, bool sample_pixels);

// Decodes z with conditions c and returns images in [0, 1]: z (N, Z), c (N, C) -> (N, S...)
torch::Tensor decode_mean(models::CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c);

// Encodes x with its own labels (posterior mean) and decodes it with each target
// row: x (N, S...), y (N, K), targets (T, K) -> (N, T, S...)
torch::Tensor transfer(models::CVAEImpl& model, const torch::Tensor& x, const torch::Tensor& y,
                       const torch::Tensor& targets);

// (N, S...) in [0, 1] -> bytes, values rounded to 0..255.
std::vector<uint8_t> to_bytes(const torch::Tensor& images);

// Writes images (N, C, H, W) in [0, 1] as a PNG grid of rows x cols tiles.
void write_png_grid(const std::string& path, const torch::Tensor& images, int64_t rows,
                    int64_t cols);

// Writes images and a label per image as PREFIX-images-idx3-ubyte and
// PREFIX-labels-idx1-ubyte (the MNIST layout; colour images as N x C x H x W).
// Returns the two paths.
std::vector<std::string> write_idx_pair(const std::string& prefix, const torch::Tensor& images,
                                        const torch::Tensor& labels);

}  // namespace cvae::serve
