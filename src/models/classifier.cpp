#include "models/classifier.h"

#include <fmt/format.h>

#include "cvae/errors.h"
#include "models/backbone.h"

namespace cvae::models {

void ClassifierConfig::validate() const {
  if (input_shape.empty()) throw ConfigError("classifier: input shape is empty");
  for (auto d : input_shape) {
    if (d < 1 || d > (1 << 20))
      throw ConfigError(fmt::format("classifier: input shape dimension out of range (got {})", d));
  }
  if (condition.labels.size() < 2) {
    throw ConfigError(
        fmt::format("a classifier needs at least 2 labels (got {})", condition.labels.size()));
  }
  if (channels.size() > 6) throw ConfigError("classifier: at most 6 conv layers");
  for (auto c : channels) {
    if (c < 1 || c > 4096) throw ConfigError("classifier: conv channels out of range");
  }
  if (hidden < 1 || hidden > 65536) throw ConfigError("classifier: hidden width out of range");
  if (!(dropout >= 0 && dropout < 1)) throw ConfigError("classifier: dropout out of range");
  if (embedding < 1 || embedding > 65536) throw ConfigError("classifier: embedding out of range");
}

ClassifierImpl::ClassifierImpl(ClassifierConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  const ModelKind& kind = model_kind_of(cfg_.modality, cfg_.input_shape, cfg_.vocabulary);
  cfg_.modality = kind.modality();
  // The modality's layers first: registration order is the order of the weights.
  ClassifierFeatures features = kind.classifier_features(*this, cfg_);
  features_ = std::move(features.forward);
  fc_ = register_module("fc", torch::nn::Linear(features.width, cfg_.hidden));
  dropout_ = register_module("dropout", torch::nn::Dropout(cfg_.dropout));
  out_ = register_module(
      "out", torch::nn::Linear(cfg_.hidden, static_cast<int64_t>(cfg_.condition.labels.size())));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) {
  auto h = dropout_->forward(torch::relu(fc_->forward(features_(x))));
  return out_->forward(h);
}

torch::Tensor predict(ClassifierImpl& model, const torch::Tensor& x, int64_t batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<torch::Tensor> out;
  for (int64_t s = 0; s < x.size(0); s += batch)
    out.push_back(model.forward(x.slice(0, s, std::min(s + batch, x.size(0)))).argmax(1));
  model.train(was_training);
  if (out.empty()) return torch::empty({0}, torch::kInt64);
  return torch::cat(out, 0);
}

}  // namespace cvae::models
