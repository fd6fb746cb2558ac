// Test support for the text modality's unit tests: a tiny text model's config
// and a batch for it.
#pragma once

#include <torch/torch.h>

#include "cvae/config.h"
#include "data/dataset.h"

namespace cvae::testing {

// A tiny text model: V = 12 tokens (4 specials + 8 words), T = 6, 2 labels.
inline ModelConfig tiny_text_config(double word_dropout = 0.0) {
  ModelConfig cfg;
  cfg.vocabulary = {"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d", "e", "f", "g", "h"};
  cfg.input_shape = {6};
  cfg.conditions = {cvae::ConditionSpec{"label", "categorical", {"x", "y"}}};
  cfg.hidden = {8};
  cfg.embedding = 5;
  cfg.latent = 3;
  cfg.word_dropout = word_dropout;
  return cfg;
}

// Two texts of different lengths: "a b c <eos>" and "d e f g h <eos>".
inline torch::Tensor tiny_tokens() {
  return torch::tensor({{4, 5, 6, 3, 0, 0}, {7, 8, 9, 10, 11, 3}}, torch::kInt64);
}

inline torch::Tensor tiny_conditions(const ModelConfig& cfg) {
  return cvae::data::encode_conditions(cfg.conditions, torch::tensor({{0}, {1}}, torch::kInt64));
}

}  // namespace cvae::testing
