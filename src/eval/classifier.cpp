#include "eval/classifier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config_json.h"
#include "core/container.h"
#include "cvae/errors.h"
#include "cvae/version.h"
#include "models/model_file.h"

namespace cvae::eval {

namespace {

nlohmann::json config_to_json(const ClassifierConfig& c) {
  return {{"modality", c.modality},     {"input_shape", c.input_shape}, {"condition", c.condition},
          {"channels", c.channels},     {"hidden", c.hidden},           {"dropout", c.dropout},
          {"vocabulary", c.vocabulary}, {"embedding", c.embedding}};
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
    if (j.contains("modality")) j.at("modality").get_to(f.config.modality);  // older: inferred
    if (j.contains("vocabulary")) j.at("vocabulary").get_to(f.config.vocabulary);
    if (j.contains("embedding")) j.at("embedding").get_to(f.config.embedding);
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
  Classifier model{nullptr};
  try {
    model = Classifier(f.config);  // the modality's layers check their own options
  } catch (const ConfigError& e) {
    throw CheckpointError(
        fmt::format("classifier file '{}' holds an invalid config: {}", path, e.what()));
  }
  models::module_from_bytes(*model, f.weights, fmt::format("classifier file '{}'", path));
  model->eval();
  if (info) *info = std::move(f);
  return model;
}

}  // namespace cvae::eval
