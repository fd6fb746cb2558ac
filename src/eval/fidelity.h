// Fidelity and diversity of generated content, measured with a judge
// (eval/classifier.h): does a sample for label k look like a k to a classifier
// trained on real data, and do the samples of a label vary as much as real
// examples of that label do?
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "data/dataset.h"
#include "eval/classifier.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::eval {

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

struct FidelityOptions {
  int64_t samples_per_label = 100;
  double temperature = 1.0;
  int64_t candidates = 1;  // each sample the best of this many (serve::best_of)
  int64_t transfer_examples = 1000;
};

// Generates samples_per_label samples for every label (z from `mixture` when it
// is defined, else the prior), classifies them, compares their spread with the
// real examples `real` (model label indices, one condition), and transfers the
// first transfer_examples real examples to every other label.
FidelityResult measure_fidelity(models::CVAEImpl& model, ClassifierImpl& judge,
                                const std::vector<std::string>& judge_labels,
                                const data::Dataset& real, const models::LatentMixture& mixture,
                                const FidelityOptions& opt, at::Generator& gen);

}  // namespace cvae::eval
