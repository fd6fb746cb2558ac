#include "models/classifier.h"

#include <fmt/format.h>

#include "cvae/errors.h"
#include "data/text.h"

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
  if (!vocabulary.empty() && (vocabulary.size() < 5 || input_shape.size() != 1)) {
    throw ConfigError("classifier: text needs a vocabulary of at least 5 tokens and shape (T)");
  }
  if (embedding < 1 || embedding > 65536) throw ConfigError("classifier: embedding out of range");
}

ClassifierImpl::ClassifierImpl(ClassifierConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  int64_t flat = 1;
  for (auto d : cfg_.input_shape) flat *= d;
  if (!cfg_.vocabulary.empty()) {
    embed_ = register_module(
        "embed",
        torch::nn::Embedding(static_cast<int64_t>(cfg_.vocabulary.size()), cfg_.embedding));
    flat = cfg_.embedding;
  } else if (cfg_.input_shape.size() == 3) {
    int64_t in = cfg_.input_shape[0], h = cfg_.input_shape[1], w = cfg_.input_shape[2];
    for (int64_t ch : cfg_.channels) {
      convs_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, ch, 3).padding(1)));
      const bool pool = h >= 2 && w >= 2;
      pool_.push_back(pool);
      if (pool) h /= 2, w /= 2;
      in = ch;
    }
    flat = in * h * w;
  }
  register_module("convs", convs_);
  fc_ = register_module("fc", torch::nn::Linear(flat, cfg_.hidden));
  dropout_ = register_module("dropout", torch::nn::Dropout(cfg_.dropout));
  out_ = register_module(
      "out", torch::nn::Linear(cfg_.hidden, static_cast<int64_t>(cfg_.condition.labels.size())));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) {
  if (embed_) {
    // Mean embedding of the tokens that are not <pad> (id 0): (B, T) -> (B, E).
    auto mask = (x != data::Vocabulary::kPad).to(torch::kFloat32).unsqueeze(2);  // (B, T, 1)
    auto bag = (embed_->forward(x) * mask).sum(1) / mask.sum(1).clamp_min(1);
    return out_->forward(dropout_->forward(torch::relu(fc_->forward(bag))));
  }
  auto h = x;
  for (size_t i = 0; i < convs_->size(); ++i) {
    h = torch::relu(convs_[i]->as<torch::nn::Conv2d>()->forward(h));
    if (pool_[i]) h = torch::max_pool2d(h, 2);
  }
  h = dropout_->forward(torch::relu(fc_->forward(h.flatten(1))));
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
