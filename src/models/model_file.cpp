#include "models/model_file.h"

#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config_json.h"
#include "core/container.h"
#include "core/model_header.h"
#include "cvae/errors.h"
#include "cvae/version.h"
#include "lite/mlp_sampler.h"
#include "lite/raw_tensors.h"

namespace cvae::models {
namespace {

nlohmann::json state_to_json(const TrainingState& s) {
  return {{"epochs_done", s.epochs_done},
          {"step", s.step},
          {"batch_in_epoch", s.batch_in_epoch},
          {"shuffle_rng", s.shuffle_rng},
          {"best_val",
           std::isfinite(s.best_val) ? nlohmann::json(s.best_val) : nlohmann::json(nullptr)},
          {"best_epoch", s.best_epoch},
          {"beta_now", s.beta_now},
          {"threads_used", s.threads_used},
          {"data_source", s.data_source},
          {"train_examples", s.train_examples},
          {"val_examples", s.val_examples}};
}

TrainingState state_from_json(const nlohmann::json& j) {
  TrainingState s;
  s.epochs_done = j.value("epochs_done", int64_t{0});
  s.step = j.value("step", int64_t{0});
  s.batch_in_epoch = j.value("batch_in_epoch", int64_t{0});
  s.shuffle_rng = j.value("shuffle_rng", std::string());
  if (j.contains("best_val") && !j.at("best_val").is_null())
    s.best_val = j.at("best_val").get<double>();
  s.best_epoch = j.value("best_epoch", int64_t{0});
  s.beta_now = j.value("beta_now", 0.0);
  s.threads_used = j.value("threads_used", 0);
  s.data_source = j.value("data_source", std::string());
  s.train_examples = j.value("train_examples", int64_t{0});
  s.val_examples = j.value("val_examples", int64_t{0});
  return s;
}

}  // namespace

std::string module_to_bytes(torch::nn::Module& m) {
  torch::serialize::OutputArchive archive;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) archive.write(p.key(), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/true))
    archive.write(b.key(), b.value(), /*is_buffer=*/true);
  std::ostringstream os(std::ios::binary);
  archive.save_to(os);
  return os.str();
}

namespace {

void load_archive(torch::serialize::InputArchive& archive, const std::string& bytes,
                  const std::string& what) {
  try {
    std::istringstream is(bytes, std::ios::binary);
    archive.load_from(is);
  } catch (const c10::Error& e) {
    throw CheckpointError(
        fmt::format("{}: weights are unreadable ({})", what, e.what_without_backtrace()));
  }
}

// The float tensors of a module_to_bytes archive, by name, as raw tensors.
std::string raw_weights_bytes(const std::string& bytes, const std::string& what) {
  torch::serialize::InputArchive archive;
  load_archive(archive, bytes, what);
  std::vector<lite::RawTensor> raw;
  for (const auto& key : archive.keys()) {
    torch::Tensor t;
    if (!archive.try_read(key, t) || t.scalar_type() != torch::kFloat32) continue;
    t = t.contiguous();
    raw.push_back({key, t.sizes().vec(),
                   std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel())});
  }
  return lite::encode_raw_tensors(raw);
}

}  // namespace

void module_from_bytes(torch::nn::Module& m, const std::string& bytes, const std::string& what) {
  torch::serialize::InputArchive archive;
  load_archive(archive, bytes, what);
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& dst) {
    torch::Tensor src;
    if (!archive.try_read(name, src)) {
      throw CheckpointError(fmt::format("{}: weight '{}' is missing", what, name));
    }
    if (src.sizes() != dst.sizes()) {
      throw CheckpointError(fmt::format("{}: weight '{}' has shape {} (expected {})", what, name,
                                        fmt::join(src.sizes(), "x"), fmt::join(dst.sizes(), "x")));
    }
    dst.copy_(src);
  };
  for (auto& p : m.named_parameters(true)) load(p.key(), p.value());
  for (auto& b : m.named_buffers(true)) load(b.key(), b.value());
}

std::string generator_to_bytes(const at::Generator& gen) {
  auto state = gen.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                     static_cast<size_t>(state.numel()));
}

void generator_from_bytes(at::Generator& gen, const std::string& bytes, const std::string& what) {
  auto expected = gen.get_state();
  if (static_cast<int64_t>(bytes.size()) != expected.numel()) {
    throw CheckpointError(fmt::format("{}: random generator state has {} bytes (expected {})", what,
                                      bytes.size(), expected.numel()));
  }
  auto state = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  gen.set_state(state);
}

void save_model_file(const std::string& path, const ModelFile& f) {
  core::Container c;
  c.header = {{"program", core::kProgram}, {"kind", "model"},  {"cvae_version", CVAE_VERSION},
              {"model", f.model},          {"train", f.train}, {"state", state_to_json(f.state)}};
  c.blobs["weights"] = f.weights;
  // The inference weights again as raw float32 for the torch-free sampler
  // (lite/mlp_sampler.h), when it can decode this model.
  if (lite::sampler_supports(f.model))
    c.blobs["inference/weights_f32"] = raw_weights_bytes(f.weights, "weights to save");
  if (!f.latent_mixture.empty()) c.blobs["sampler/latent_mixture"] = f.latent_mixture;
  if (!f.train_sequences.empty()) c.blobs["data/train_sequences"] = f.train_sequences;
  if (f.resume) {
    c.blobs["resume/weights"] = f.resume->weights;
    c.blobs["resume/optimizer"] = f.resume->optimizer;
    c.blobs["resume/generator"] = f.resume->generator;
  }
  core::write_container(path, c);
}

ModelFile load_model_file(const std::string& path) {
  core::Container c = core::read_container(path);
  core::ModelHeader h = core::read_model_header(c, path);
  ModelFile f;
  f.header = c.header;
  f.model = std::move(h.model);
  f.train = std::move(h.train);
  try {
    f.state = state_from_json(h.state);
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(
        fmt::format("model file '{}' has an incomplete header ({})", path, e.what()));
  }
  try {
    (void)resolve_model_config(f.model);  // the backbone's and the modality's checks too
  } catch (const ConfigError& e) {
    throw CheckpointError(
        fmt::format("model file '{}' holds an invalid model config: {}", path, e.what()));
  }
  f.weights = std::move(c.blobs["weights"]);
  if (auto m = c.blobs.find("sampler/latent_mixture"); m != c.blobs.end())
    f.latent_mixture = std::move(m->second);
  if (auto m = c.blobs.find("data/train_sequences"); m != c.blobs.end())
    f.train_sequences = std::move(m->second);
  if (c.blobs.count("resume/weights") && c.blobs.count("resume/optimizer") &&
      c.blobs.count("resume/generator")) {
    f.resume = ResumeState{c.blobs["resume/weights"], c.blobs["resume/optimizer"],
                           c.blobs["resume/generator"]};
  }
  return f;
}

CVAE load_model(const std::string& path, ModelFile* info) {
  ModelFile f = load_model_file(path);
  CVAE model(f.model);
  module_from_bytes(*model, f.weights, fmt::format("model file '{}'", path));
  model->eval();
  if (info) *info = std::move(f);
  return model;
}

}  // namespace cvae::models
