// Datasets as tensors, and condition encoding.
//
// Shapes: N examples, K conditions, C = condition width (sum of label counts),
// x has the per-example shape S (e.g. 1x28x28). Reading data is the modalities'
// (modalities/modality.h: load_dataset); this is what every modality shares.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"
#include "io/labels.h"

namespace cvae::data {

struct Dataset {
  torch::Tensor x;  // (N, S...) float32 in [0, 1]
  torch::Tensor y;  // (N, K) int64: label index per condition
  std::vector<ConditionSpec> conditions;
  std::string source;    // where it was read from, for messages
  std::string modality;  // the modality that read it (modalities/modality.h)
  // Token data (text): x holds token ids (N, T) int64 (<pad> = 0 after each
  // text's <eos>), and this is the vocabulary (id -> token); empty otherwise.
  std::vector<std::string> vocabulary;
  // Optional (N,) int64: whom each example is about (item sets: the userId), or undefined.
  torch::Tensor ids;

  int64_t size() const { return x.defined() ? x.size(0) : 0; }
  std::vector<int64_t> example_shape() const;        // S
  Dataset subset(const torch::Tensor& index) const;  // index: (M,) int64
};

// Splits a training set into (train, validation) by a seeded permutation; the
// first round(fraction * N) permuted examples become the validation set.
std::pair<Dataset, Dataset> split_validation(const Dataset& all, double fraction, uint64_t seed);

// Indices (sorted, int64) of n examples chosen per label of the first condition
// as evenly as the data allow (labels in index order take the remainder), by a
// permutation seeded with seed. ConfigError when n is 0 or above the data size.
torch::Tensor stratified_subset(const Dataset& d, int64_t n, uint64_t seed);

// Checks that the data fits a model trained on `expected` conditions and shape,
// and maps its label indices to the model's by name (a test split may lack
// some labels). Labels the model does not know are a DataError.
void check_compatible(Dataset& d, const std::vector<int64_t>& shape,
                      const std::vector<ConditionSpec>& expected);

// One-hot codes of each condition, concatenated: y (N, K) -> c (N, C) float32.
torch::Tensor encode_conditions(const std::vector<ConditionSpec>& conditions,
                                const torch::Tensor& y);

// io::parse_label_rows (io/labels.h) as a (M, K) int64 tensor.
torch::Tensor parse_labels(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested);
// Label rows of K indices each -> (M, K) int64.
torch::Tensor label_rows_tensor(const io::LabelRows& rows, int64_t k);

// io::label_row_name (io/labels.h) of one label-index row (K,).
std::string label_name(const std::vector<ConditionSpec>& conditions, const torch::Tensor& row);
// label_name of each row of rows (M, K).
std::vector<std::string> label_names(const std::vector<ConditionSpec>& conditions,
                                     const torch::Tensor& rows);

}  // namespace cvae::data
