// Fidelity and diversity of generated images, measured with a judge (a
// classifier trained on real images): does a sample for label k look like a k
// to it, and do the samples of a label vary as much (mean pairwise pixel
// distance) as real examples of that label do?
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/api.h"
#include "data/dataset.h"
#include "models/classifier.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::modalities::image {

struct FidelityOptions {
  int64_t samples_per_label = 100;
  double temperature = 1.0;
  int64_t candidates = 1;  // each sample the best of this many (models::best_of)
  int64_t transfer_examples = 1000;
};

// Generates samples_per_label samples for every label (z from `mixture` when it
// is defined, else the prior), classifies them, compares their spread with the
// real examples `real` (model label indices, one condition), and transfers the
// first transfer_examples real examples to every other label.
FidelityResult measure_fidelity(models::CVAEImpl& model, models::ClassifierImpl& judge,
                                const std::vector<std::string>& judge_labels,
                                const data::Dataset& real, const models::LatentMixture& mixture,
                                const FidelityOptions& opt, at::Generator& gen);

}  // namespace cvae::modalities::image
