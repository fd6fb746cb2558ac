// Datasets as tensors, and condition encoding.
//
// Shapes: N examples, K conditions, C = condition width (sum of label counts),
// x has the per-example shape S (e.g. 1x28x28) and is float32 in [0, 1].
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"
#include "data/labels.h"

namespace cvae::data {

struct Dataset {
  torch::Tensor x;  // (N, S...) float32 in [0, 1]
  torch::Tensor y;  // (N, K) int64: label index per condition
  std::vector<ConditionSpec> conditions;
  std::string source;  // where it was read from, for messages
  // Text: x holds token ids (N, T) int64 (<pad> = 0 after each text's <eos>), and
  // this is the vocabulary (id -> token); empty for images.
  std::vector<std::string> vocabulary;
  bool is_text() const { return !vocabulary.empty(); }

  int64_t size() const { return x.defined() ? x.size(0) : 0; }
  std::vector<int64_t> example_shape() const;        // S
  Dataset subset(const torch::Tensor& index) const;  // index: (M,) int64
};

// Reads split "train" or "test" of the data at cfg.path (IDX directory or image
// folders; see DataConfig). Throws DataError on bad input.
Dataset load_dataset(const DataConfig& cfg, const std::string& split);

// Reads labelled texts (TSV or CSV, data/text.h) as token ids. With
// cfg.vocabulary empty the vocabulary is built from these texts (cfg.min_count)
// and T = min(cfg.max_tokens, longest text + 1); else the texts are encoded
// with cfg.vocabulary and T = cfg.max_tokens. Called by load_dataset.
Dataset load_text_dataset(const DataConfig& cfg, const std::string& split);

// Token ids of texts with a vocabulary, T positions each: (N, T) int64; the
// truncation rule of data/text.h (first T - 1 words, then <eos>).
torch::Tensor encode_texts(const std::vector<std::string>& vocabulary,
                           const std::vector<std::string>& texts, int64_t t);
// Text of each row of ids (N, T): up to the first <eos>, joined (data/text.h).
std::vector<std::string> decode_texts(const std::vector<std::string>& vocabulary,
                                      const torch::Tensor& ids);

// Hashes (FNV-1a, 64 bits) of each row of token ids (N, T) up to its first
// <eos>, sorted and unique, as little-endian bytes; and the lookup on them.
std::string sequence_hashes_bytes(const torch::Tensor& ids);
// For each row of ids (N, T): whether its hash is in hashes_bytes. (N,) bool.
std::vector<bool> sequences_in(const std::string& hashes_bytes, const torch::Tensor& ids);

// Whether cfg names text data: modality text, or auto and a .tsv/.csv/.txt file.
bool is_text_data(const DataConfig& cfg);

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

// Options for data that must fit a model of this per-example shape: image
// folders' unset size and channels default to the model's (C x H x W); text is
// encoded with the model's vocabulary (when given) and length T = shape[0].
DataConfig data_config_for_model(DataConfig cfg, const std::vector<int64_t>& shape,
                                 const std::vector<std::string>& vocabulary = {});

// One-hot codes of each condition, concatenated: y (N, K) -> c (N, C) float32.
torch::Tensor encode_conditions(const std::vector<ConditionSpec>& conditions,
                                const torch::Tensor& y);

// parse_label_rows (data/labels.h) as a (M, K) int64 tensor.
torch::Tensor parse_labels(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested);
// Label rows of K indices each -> (M, K) int64.
torch::Tensor label_rows_tensor(const LabelRows& rows, int64_t k);

// label_row_name (data/labels.h) of one label-index row (K,).
std::string label_name(const std::vector<ConditionSpec>& conditions, const torch::Tensor& row);
// label_name of each row of rows (M, K).
std::vector<std::string> label_names(const std::vector<ConditionSpec>& conditions,
                                     const torch::Tensor& rows);

}  // namespace cvae::data
