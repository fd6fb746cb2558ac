// Fitting the per-label latent mixture (models/latent_density.h) to a trained
// model's encodings of a dataset.
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/dataset.h"
#include "models/cvae_model.h"

namespace cvae::training {

// Encodes d with its labels and fits `components` Gaussians per label to one
// draw z ~ q(z | x, c) per example (the aggregate posterior, where the decoder
// saw z in training), or to the posterior means when from_means is set.
// Returns the mixture as bytes for the model file ("" when no label had 2 examples).
std::string fit_mixture_bytes(models::CVAEImpl& model, const data::Dataset& d, int64_t components,
                              uint64_t seed, bool from_means);

}  // namespace cvae::training
