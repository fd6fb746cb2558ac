// Test support: reading the PyTorch twins' fixtures (tests/reference/twin*.py):
// tensors stored as flat JSON lists, parameters by name, and the shared inputs.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvae/config.h"
#include "data/dataset.h"

namespace cvae::testing {

inline torch::Tensor tensor_from_json(const nlohmann::json& j, std::vector<int64_t> shape) {
  auto v = j.get<std::vector<float>>();
  return torch::tensor(v, torch::kFloat32).reshape(shape);
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Copies the fixture's "params" into m by name. Returns "" when every parameter of m
// was found with its shape and the fixture has no others, else what differs.
inline std::string load_twin_params(torch::nn::Module& m, const nlohmann::json& fx) {
  torch::NoGradGuard ng;
  size_t loaded = 0;
  for (auto& p : m.named_parameters()) {
    if (!fx["params"].contains(p.key())) return "twin has no parameter " + p.key();
    const auto& e = fx["params"][p.key()];
    const auto shape = e["shape"].get<std::vector<int64_t>>();
    if (p.value().sizes().vec() != shape) return "shape differs for " + p.key();
    p.value().copy_(tensor_from_json(e["data"], shape));
    ++loaded;
  }
  if (loaded != fx["params"].size()) return "parameter sets differ";
  return "";
}

struct TwinInputs {
  torch::Tensor x, y, eps, c;  // (B, S...), (B, 1), (B, Z), (B, C)
  int64_t batch = 0;
};

inline TwinInputs twin_inputs(const nlohmann::json& fx, const ModelConfig& cfg) {
  TwinInputs in;
  auto shape = cfg.input_shape;
  in.batch = static_cast<int64_t>(fx["inputs"]["y"].size());
  shape.insert(shape.begin(), in.batch);
  in.x = tensor_from_json(fx["inputs"]["x"], shape);
  in.y = torch::tensor(fx["inputs"]["y"].get<std::vector<int64_t>>(), torch::kInt64)
             .view({in.batch, 1});
  in.eps = tensor_from_json(fx["inputs"]["eps"], {in.batch, cfg.latent});
  in.c = data::encode_conditions(cfg.conditions, in.y);
  return in;
}

}  // namespace cvae::testing
