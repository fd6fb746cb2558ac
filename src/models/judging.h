// What every modality's fidelity measure (eval --judge) shares: the judge's
// accuracy on examples, the label map between model and judge, the spread of
// examples, and the transfer accuracy. The measures themselves belong to the
// modalities (Modality::measure_fidelity).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "data/dataset.h"
#include "models/classifier.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::models {

// Accuracy overall and per label of the judge's predictions on x against y:
// x (N, S...), y (N,) int64 label indices into `labels`.
ClassifierReport classifier_report(ClassifierImpl& judge, const torch::Tensor& x,
                                   const torch::Tensor& y, const std::vector<std::string>& labels);

// Mean Euclidean distance over all pairs i != j of rows of x (N, ...); NaN when N < 2.
double mean_pairwise_distance(const torch::Tensor& x);

// For each model label, the judge's index of the same name: (L_model,) int64.
// ConfigError naming a label the judge does not know.
torch::Tensor judge_label_map(const std::vector<std::string>& model_labels,
                              const std::vector<std::string>& judge_labels);

// Transfer accuracy: the first transfer_examples examples of `real`, each moved to
// every other label. to_judge(x (B, S...), y (B, K), targets (L, 1)) returns the
// judge's input for the B*L transfers, source-major. Sets r.transfer_count and
// r.transfer_accuracy (NaN when there is nothing to transfer).
void measure_transfer(ClassifierImpl& judge, const torch::Tensor& map, const data::Dataset& real,
                      int64_t transfer_examples,
                      const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                                        const torch::Tensor&)>& to_judge,
                      FidelityResult& r);

}  // namespace cvae::models
