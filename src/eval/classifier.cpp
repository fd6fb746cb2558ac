#include "eval/classifier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config_json.h"
#include "core/container.h"
#include "cvae/errors.h"
#include "cvae/version.h"
#include "models/model_file.h"

namespace cvae::eval {

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
}

ClassifierImpl::ClassifierImpl(ClassifierConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.validate();
  int64_t flat = 1;
  for (auto d : cfg_.input_shape) flat *= d;
  if (cfg_.input_shape.size() == 3) {
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

namespace {

nlohmann::json config_to_json(const ClassifierConfig& c) {
  return {{"input_shape", c.input_shape},
          {"condition", c.condition},
          {"channels", c.channels},
          {"hidden", c.hidden},
          {"dropout", c.dropout}};
}

}  // namespace

void save_classifier(const std::string& path, const ClassifierFile& f) {
  core::Container c;
  c.header = {{"program", "cvae"},
              {"kind", "classifier"},
              {"cvae_version", CVAE_VERSION},
              {"classifier", config_to_json(f.config)},
              {"test_accuracy", f.test_accuracy},
              {"data_source", f.data_source}};
  c.blobs["weights"] = f.weights;
  core::write_container(path, c);
}

ClassifierFile load_classifier_file(const std::string& path) {
  core::Container c = core::read_container(path);
  if (c.header.value("program", std::string()) != "cvae" ||
      c.header.value("kind", std::string()) != "classifier") {
    throw CheckpointError(fmt::format(
        "'{}' is not a cvae classifier file (expected the output of cvae classifier train)", path));
  }
  ClassifierFile f;
  try {
    const auto& j = c.header.at("classifier");
    j.at("input_shape").get_to(f.config.input_shape);
    j.at("condition").get_to(f.config.condition);
    j.at("channels").get_to(f.config.channels);
    j.at("hidden").get_to(f.config.hidden);
    j.at("dropout").get_to(f.config.dropout);
    f.test_accuracy = c.header.value("test_accuracy", -1.0);
    f.data_source = c.header.value("data_source", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(
        fmt::format("classifier file '{}' has an incomplete header ({})", path, e.what()));
  }
  try {
    f.config.validate();
  } catch (const ConfigError& e) {
    throw CheckpointError(
        fmt::format("classifier file '{}' holds an invalid config: {}", path, e.what()));
  }
  auto it = c.blobs.find("weights");
  if (it == c.blobs.end())
    throw CheckpointError(fmt::format("classifier file '{}' has no weights", path));
  f.weights = std::move(it->second);
  return f;
}

Classifier load_classifier(const std::string& path, ClassifierFile* info) {
  ClassifierFile f = load_classifier_file(path);
  Classifier model(f.config);
  models::module_from_bytes(*model, f.weights, fmt::format("classifier file '{}'", path));
  model->eval();
  if (info) *info = std::move(f);
  return model;
}

}  // namespace cvae::eval
