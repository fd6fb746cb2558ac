// A small classifier of examples: the judge of eval/classifier.h, and q(y | x)
// of semi-supervised training.
//
// Images (C x H x W): per entry of `channels`, a 3x3 convolution (padding 1)
// + ReLU + 2x2 max-pooling while both sides are at least 2, then flatten ->
// Linear(hidden) + ReLU + dropout -> Linear(L). Text (token ids (T,) with a
// vocabulary): a bag of words, the mean of the embeddings of the non-pad
// tokens -> Linear(hidden) + ReLU + dropout -> Linear(L). Other shapes: flatten
// -> Linear(hidden) + ReLU + dropout -> Linear(L). L = number of labels.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"

namespace cvae::models {

struct ClassifierConfig {
  std::vector<int64_t> input_shape;
  ConditionSpec condition;  // the labels it predicts
  std::vector<int64_t> channels = {32, 64};
  int64_t hidden = 128;
  double dropout = 0.3;
  std::vector<std::string> vocabulary;  // text: the tokens of its ids (data/text.h)
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
  torch::nn::ModuleList convs_;
  std::vector<bool> pool_;
  torch::nn::Linear fc_{nullptr}, out_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Embedding embed_{nullptr};  // text only
};
TORCH_MODULE(Classifier);

// Label index with the highest logit per example, in batches, eval mode:
// x (N, S...) -> (N,) int64
torch::Tensor predict(ClassifierImpl& model, const torch::Tensor& x, int64_t batch = 512);

}  // namespace cvae::models
