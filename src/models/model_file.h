// Model files: config, label names, input shape, inference weights and the
// complete training state (weights, optimizer, step, schedule, RNG) in one
// container written atomically (core/container.h, docs/file-format.md).
#pragma once

#include <torch/torch.h>

#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cvae/config.h"
#include "models/cvae_model.h"

namespace cvae::models {

// Where training stands. Saved with every model file.
struct TrainingState {
  int64_t epochs_done = 0;     // completed epochs
  int64_t step = 0;            // optimisation steps so far
  int64_t batch_in_epoch = 0;  // > 0 when saved in the middle of epoch epochs_done + 1
  std::string shuffle_rng;     // std::mt19937_64 state at the start of the current epoch
  double best_val = std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0;
  double beta_now = 0;   // the KL weight at `step` (the schedule's state)
  int threads_used = 0;  // threads of the run (an exact resume uses the same)
  std::string data_source;
  int64_t train_examples = 0, val_examples = 0;
};

// The resumable part: latest weights, optimizer and noise generator.
struct ResumeState {
  std::string weights;    // serialized parameters of the latest model
  std::string optimizer;  // serialized optim::FlatAdam state (moments, step)
  std::string generator;  // CPU generator state bytes (reparameterisation noise)
};

struct ModelFile {
  ModelConfig model;
  TrainConfig train;
  TrainingState state;
  // The parameters used for inference (best by validation): a torch archive,
  // or raw float32 tensors (lite/raw_tensors.h) as stored for the models the
  // torch-free sampler decodes; module_from_bytes reads both.
  std::string weights;
  std::optional<ResumeState> resume;
  std::string latent_mixture;  // models/latent_density.h bytes; empty when none was fitted
  // Text models: sorted 64-bit hashes of the training file's token sequences
  // (data::sequence_hashes_bytes), to count generated texts copied from it.
  std::string train_sequences;
  nlohmann::json header;        // the raw header as read
  uint32_t format_version = 0;  // the container's, as read (core/container.h)
};

// Named parameters and buffers of a module <-> bytes (a torch archive).
std::string module_to_bytes(torch::nn::Module& m);
// Loads bytes (a torch archive, or raw tensors) into m; every parameter and
// buffer must be present with the same shape, else CheckpointError naming it
// (what names the file in messages).
void module_from_bytes(torch::nn::Module& m, const std::string& bytes, const std::string& what);

std::string generator_to_bytes(const at::Generator& gen);
void generator_from_bytes(at::Generator& gen, const std::string& bytes, const std::string& what);

void save_model_file(const std::string& path, const ModelFile& f);
ModelFile load_model_file(const std::string& path);

// Loads a model for inference: config from the file, best weights, eval mode.
CVAE load_model(const std::string& path, ModelFile* info = nullptr);

}  // namespace cvae::models
