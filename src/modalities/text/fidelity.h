// Fidelity and diversity of generated text: a text judge (a bag-of-words
// classifier, eval/classifier.h) reads each generated text, distinct-n counts
// how varied the texts are next to real ones, and the model file's hashes of
// its training texts tell how many samples were copied from them.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/api.h"
#include "data/dataset.h"
#include "modalities/text/decode.h"
#include "models/classifier.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"

namespace cvae::modalities::text {

// Distinct n-grams / all n-grams over token sequences (Li et al. 2016): the
// n-grams of each row of ids (N, T) up to its <eos> (neither <eos> nor <pad>
// counted); 0 when there is no n-gram. Returns {distinct, total}.
std::pair<int64_t, int64_t> count_ngrams(const torch::Tensor& ids, int n);

struct TextFidelityOptions {
  int64_t samples_per_label = 100;
  double latent_temperature = 1.0;
  core::DecodeOptions decode;
  int64_t transfer_examples = 1000;
  int64_t examples_shown = 3;  // texts per label kept in examples_per_label
};

// real: the split as the model reads it (model vocabulary, model label indices);
// real_for_judge: the same examples encoded for the judge (its vocabulary and
// length; judge label indices). train_sequences: ModelFile::train_sequences.
FidelityResult measure_text_fidelity(models::CVAEImpl& model, models::ClassifierImpl& judge,
                                     const data::Dataset& real, const data::Dataset& real_for_judge,
                                     const std::string& train_sequences,
                                     const models::LatentMixture& mixture,
                                     const TextFidelityOptions& opt, at::Generator& gen);

}  // namespace cvae::modalities::text
