// The header of a model file (core/container.h): what cvae wrote and for which
// model, checked the same way by every reader (models::load_model_file and the
// launcher's torch-free generate).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/container.h"
#include "cvae/config.h"

namespace cvae::core {

inline constexpr const char* kProgram = "cvae";  // the header's "program"

// The blobs that hold a model's inference weights: a torch archive, and raw
// float32 tensors (lite/raw_tensors.h) for the models the torch-free sampler
// decodes. A version 1 file holds the archive (and both for those models); a
// version 2 file holds one of them.
inline constexpr const char* kWeightsBlob = "weights";
inline constexpr const char* kRawWeightsBlob = "inference/weights_f32";

struct ModelHeader {
  ModelConfig model;  // validated
  TrainConfig train;
  nlohmann::json state;  // the training state (models::TrainingState), as stored
};

// Throws CheckpointError naming the file when it was not written by cvae, is
// another kind of cvae file, has an incomplete header or an invalid model
// config, or holds neither weights blob.
ModelHeader read_model_header(const Container& c, const std::string& path);

}  // namespace cvae::core
