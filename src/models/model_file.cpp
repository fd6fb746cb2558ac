#include "models/model_file.h"

#include <functional>
#include <map>
#include <memory>
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

bool is_raw(const std::string& bytes) { return bytes.rfind(lite::kRawMagic, 0) == 0; }

struct RawWeights {
  std::string bytes;
  bool complete = true;  // every tensor of the archive is float32, so the bytes hold them all
};

// The float tensors of module weights (a module_to_bytes archive, or raw
// already), by name, as raw tensors.
RawWeights raw_weights(const std::string& bytes, const std::string& what) {
  if (is_raw(bytes)) return {bytes, true};
  torch::serialize::InputArchive archive;
  load_archive(archive, bytes, what);
  RawWeights out;
  std::vector<lite::RawTensor> raw;
  for (const auto& key : archive.keys()) {
    torch::Tensor t;
    if (!archive.try_read(key, t) || t.scalar_type() != torch::kFloat32) {
      out.complete = false;
      continue;
    }
    t = t.contiguous();
    raw.push_back({key, t.sizes().vec(),
                   std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel())});
  }
  out.bytes = lite::encode_raw_tensors(raw);
  return out;
}

// Finds each weight of a module by name in archive or raw bytes.
std::function<bool(const std::string&, torch::Tensor&)> weight_reader(const std::string& bytes,
                                                                      const std::string& what) {
  if (is_raw(bytes)) {
    auto raw = std::make_shared<std::map<std::string, lite::RawTensor>>();
    for (auto& t : lite::decode_raw_tensors(bytes, what)) {
      std::string name = t.name;
      raw->emplace(std::move(name), std::move(t));
    }
    return [raw](const std::string& name, torch::Tensor& out) {
      auto it = raw->find(name);
      if (it == raw->end()) return false;
      out = torch::from_blob(it->second.values.data(), it->second.shape, torch::kFloat32);
      return true;
    };
  }
  auto archive = std::make_shared<torch::serialize::InputArchive>();
  load_archive(*archive, bytes, what);
  return [archive](const std::string& name, torch::Tensor& out) {
    return archive->try_read(name, out);
  };
}

}  // namespace

void module_from_bytes(torch::nn::Module& m, const std::string& bytes, const std::string& what) {
  const auto read = weight_reader(bytes, what);
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& dst) {
    torch::Tensor src;
    if (!read(name, src)) {
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
  // Models the torch-free sampler (lite/mlp_sampler.h) can decode keep their
  // weights as raw float32, which libtorch reads as well; the rest as a torch
  // archive. Raw weights that could not hold every tensor go with the archive.
  if (lite::sampler_supports(f.model)) {
    RawWeights raw = raw_weights(f.weights, "weights to save");
    c.blobs[core::kRawWeightsBlob] = std::move(raw.bytes);
    if (!raw.complete) c.blobs[core::kWeightsBlob] = f.weights;
  } else {
    c.blobs[core::kWeightsBlob] = f.weights;
  }
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
  f.format_version = c.version;
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
  // Version 1 files hold both blobs, the archive first; version 2 files one.
  if (auto w = c.blobs.find(core::kWeightsBlob); w != c.blobs.end())
    f.weights = std::move(w->second);
  else
    f.weights =
        std::move(c.blobs.at(core::kRawWeightsBlob));  // read_model_header checked one exists
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
