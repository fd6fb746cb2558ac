#include "core/model_header.h"

#include <fmt/format.h>

#include "core/config_json.h"
#include "cvae/errors.h"

namespace cvae::core {

ModelHeader read_model_header(const Container& c, const std::string& path) {
  ModelHeader h;
  try {
    if (c.header.value("program", std::string()) != kProgram) {
      throw CheckpointError(
          fmt::format("'{}' was not written by cvae (program '{}' vs expected 'cvae')", path,
                      c.header.value("program", std::string("?"))));
    }
    const std::string kind = c.header.value("kind", std::string("model"));
    if (kind != "model") {
      throw CheckpointError(fmt::format(
          "'{}' is a cvae {} file, not a model file (expected the output of cvae train)", path,
          kind));
    }
    h.model = c.header.at("model").get<ModelConfig>();
    h.train = c.header.at("train").get<TrainConfig>();
    h.state = c.header.at("state");
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(
        fmt::format("model file '{}' has an incomplete header ({})", path, e.what()));
  }
  try {
    h.model.validate();
  } catch (const ConfigError& e) {
    throw CheckpointError(
        fmt::format("model file '{}' holds an invalid model config: {}", path, e.what()));
  }
  if (!c.blobs.count(kWeightsBlob) && !c.blobs.count(kRawWeightsBlob))
    throw CheckpointError(
        fmt::format("model file '{}' has no weights (expected a '{}' or '{}' blob)", path,
                    kWeightsBlob, kRawWeightsBlob));
  return h;
}

}  // namespace cvae::core
