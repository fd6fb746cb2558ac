// Text data as token-id tensors, on top of the torch-free reader and
// tokenizer (modalities/text/tokens.h).
//
// Shapes: N texts, T positions (words + <eos>, then <pad>).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"
#include "data/dataset.h"

namespace cvae::modalities::text {

// Reads labelled texts (TSV or CSV, modalities/text/tokens.h) as token ids. With
// cfg.vocabulary empty the vocabulary is built from these texts (cfg.min_count)
// and T = min(cfg.max_tokens, longest text + 1); else the texts are encoded
// with cfg.vocabulary and T = cfg.max_tokens.
data::Dataset load_text_dataset(const DataConfig& cfg, const std::string& split);

// Token ids of texts with a vocabulary, T positions each: (N, T) int64; the
// truncation rule of modalities/text/tokens.h (first T - 1 words, then <eos>).
torch::Tensor encode_texts(const std::vector<std::string>& vocabulary,
                           const std::vector<std::string>& texts, int64_t t);
// Text of each row of ids (N, T): up to the first <eos>, joined (modalities/text/tokens.h).
std::vector<std::string> decode_texts(const std::vector<std::string>& vocabulary,
                                      const torch::Tensor& ids);

// Hashes (FNV-1a, 64 bits) of each row of token ids (N, T) up to its first
// <eos>, sorted and unique, as little-endian bytes; and the lookup on them.
std::string sequence_hashes_bytes(const torch::Tensor& ids);
// For each row of ids (N, T): whether its hash is in hashes_bytes. (N,) bool.
std::vector<bool> sequences_in(const std::string& hashes_bytes, const torch::Tensor& ids);

// Whether cfg.path is a text file: a .tsv, .csv or .txt regular file.
bool is_text_file(const DataConfig& cfg);

}  // namespace cvae::modalities::text
