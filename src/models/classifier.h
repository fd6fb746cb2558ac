// A small classifier of examples: the judge of eval/classifier.h, and q(y | x)
// of semi-supervised training.
//
// The modality's first layers (ModelKind::classifier_features: for images
// convolutions, for text a bag of word embeddings) -> Linear(hidden) + ReLU +
// dropout -> Linear(L). L = number of labels.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "cvae/config.h"

namespace cvae::models {

struct ClassifierConfig {
  std::string modality;  // as ModelConfig::modality ("" in older files: inferred)
  std::vector<int64_t> input_shape;
  ConditionSpec condition;                   // the labels it predicts
  std::vector<int64_t> channels = {32, 64};  // images: 3x3 convolutions
  int64_t hidden = 128;
  double dropout = 0.3;
  std::vector<std::string> vocabulary;  // text: the tokens of its ids (modalities/text/tokens.h)
  int64_t embedding = 128;              // text: embedding size
  void validate() const;
};

class ClassifierImpl : public torch::nn::Module {
 public:
  explicit ClassifierImpl(ClassifierConfig cfg);
  // x (B, S...) -> logits (B, L)
  torch::Tensor forward(const torch::Tensor& x);
  const ClassifierConfig& config() const { return cfg_; }

 private:
  ClassifierConfig cfg_;
  std::function<torch::Tensor(const torch::Tensor&)> features_;  // x (B, S...) -> (B, F)
  torch::nn::Linear fc_{nullptr}, out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(Classifier);

// Label index with the highest logit per example, in batches, eval mode:
// x (N, S...) -> (N,) int64
torch::Tensor predict(ClassifierImpl& model, const torch::Tensor& x, int64_t batch = 512);

}  // namespace cvae::models
