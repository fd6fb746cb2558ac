// The generation-only path: sampling, attribute transfer and interpolation
// from a trained model, plus writers that turn decoder output into files.
//
// Shapes: N samples, S... per-example shape, Z latent, C condition width, K conditions.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "data/labels.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"
#include "models/model_file.h"

namespace cvae::serve {

// The latent sampler a request names: "prior" (p(z | c)), "gmm" (the latent
// mixture fitted after training; CheckpointError when the file has none) or
// "auto" (gmm when the file has one, else prior). Returns the mixture, or an
// undefined one for the prior.
models::LatentMixture choose_sampler(const std::string& sampler, const models::ModelFile& info);

// n latent draws per label row: z = mu_p(c) + temperature * sigma_p(c) * eps
// from the prior, or from the row's mixture with covariances scaled by
// temperature^2 when `mixture` is defined. rows (M, K) -> (M*n, Z), label-major.
torch::Tensor sample_latent(models::CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                            double temperature, at::Generator& gen,
                            const models::LatentMixture& mixture);

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
torch::Tensor sample_mlp_images(models::CVAEImpl& model, const data::LabelRows& rows, int64_t n,
                                double temperature, uint64_t seed);

// Calls draw() `candidates` times (each call: one example per row of
// target_rows (N, K), as (N, S...)) and keeps, per row, the candidate with the
// highest log p(row | x) under the model (label_log_posterior): the model's own
// reading of which label an example carries, no outside classifier.
torch::Tensor best_of(models::CVAEImpl& model, const std::function<torch::Tensor()>& draw,
                      const torch::Tensor& target_rows, int64_t candidates);

// Decodes z with conditions c and returns images in [0, 1]: z (N, Z), c (N, C) -> (N, S...)
torch::Tensor decode_mean(models::CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c);

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

// The latent side of transfer: the moved codes z' (N*T, Z) and the target
// conditions c (N*T, C), source-major, for any decoder.
std::pair<torch::Tensor, torch::Tensor> transfer_latent(models::CVAEImpl& model,
                                                        const torch::Tensor& x,
                                                        const torch::Tensor& y,
                                                        const torch::Tensor& targets,
                                                        const models::LatentMixture& mixture);

// The label row under which the model explains each example best: the lowest
// -ELBO = -log p(x | mu, c) + KL(q(z | x, c) || p(z | c)) with z at the posterior
// mean mu, over every label row. x (N, S...) -> (N, K) label indices.
torch::Tensor infer_labels(models::CVAEImpl& model, const torch::Tensor& x);

// The model's own posterior over label rows, log p(row | x) = log softmax over
// rows of -(-ELBO(x, row)) (a uniform prior over rows; z at the posterior mean),
// for every row of parse_labels(conditions, {"all"}): x (N, S...) -> (N, L).
torch::Tensor label_log_posterior(models::CVAEImpl& model, const torch::Tensor& x);

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

}  // namespace cvae::serve
