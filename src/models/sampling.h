// Sampling from a trained model for any modality: the latent sampler (prior
// or fitted mixture), reranking by the model's own label posterior, the mean
// decoding, the latent side of attribute transfer, and label inference. The
// modalities (src/modalities/) build generate, transfer and eval on these.
//
// Shapes: N samples, S... per-example shape, Z latent, C condition width, K conditions.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "io/labels.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"
#include "models/model_file.h"

namespace cvae::models {

// The latent sampler a request names: "prior" (p(z | c)), "gmm" (the latent
// mixture fitted after training; CheckpointError when the file has none) or
// "auto" (gmm when the file has one, else prior). Returns the mixture, or an
// undefined one for the prior.
LatentMixture choose_sampler(const std::string& sampler, const ModelFile& info);

// n latent draws per label row: z = mu_p(c) + temperature * sigma_p(c) * eps
// from the prior, or from the row's mixture with covariances scaled by
// temperature^2 when `mixture` is defined. rows (M, K) -> (M*n, Z), label-major.
torch::Tensor sample_latent(CVAEImpl& model, const torch::Tensor& rows, int64_t n,
                            double temperature, at::Generator& gen, const LatentMixture& mixture);

// Calls draw() `candidates` times (each call: one example per row of
// target_rows (N, K), as (N, S...)) and keeps, per row, the candidate with the
// highest log p(row | x) under the model (label_log_posterior): the model's own
// reading of which label an example carries, no outside classifier.
torch::Tensor best_of(CVAEImpl& model, const std::function<torch::Tensor()>& draw,
                      const torch::Tensor& target_rows, int64_t candidates);

// Decodes z with conditions c and returns images in [0, 1]: z (N, Z), c (N, C) -> (N, S...)
torch::Tensor decode_mean(CVAEImpl& model, const torch::Tensor& z, const torch::Tensor& c);

// The latent side of transfer: the moved codes z' (N*T, Z) and the target
// conditions c (N*T, C), source-major, for any decoder.
std::pair<torch::Tensor, torch::Tensor> transfer_latent(CVAEImpl& model, const torch::Tensor& x,
                                                        const torch::Tensor& y,
                                                        const torch::Tensor& targets,
                                                        const LatentMixture& mixture);

// The label row under which the model explains each example best: the lowest
// -ELBO = -log p(x | mu, c) + KL(q(z | x, c) || p(z | c)) with z at the posterior
// mean mu, over every label row. x (N, S...) -> (N, K) label indices.
torch::Tensor infer_labels(CVAEImpl& model, const torch::Tensor& x);

// The model's own posterior over label rows, log p(row | x) = log softmax over
// rows of -(-ELBO(x, row)) (a uniform prior over rows; z at the posterior mean),
// for every row of parse_labels(conditions, {"all"}): x (N, S...) -> (N, L).
torch::Tensor label_log_posterior(CVAEImpl& model, const torch::Tensor& x);

}  // namespace cvae::models
