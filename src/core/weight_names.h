// One weights contract: the names of the MLP model's and the learned prior's
// parameters, and the prior network's width, as the model registers them
// (models/mlp.cpp, models/cvae_model.cpp), the fused training step reads them
// (train/fused_mlp.cpp) and the torch-free sampler finds them in the model file
// (lite/mlp_sampler.cpp). A rename here renames them
// everywhere; tests/models/test_mlp.cpp checks the model against it.
// Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cvae::weights {

// Children of the CVAE module.
inline constexpr const char* kEncoder = "encoder";
inline constexpr const char* kDecoder = "decoder";
inline constexpr const char* kPrior = "prior";
inline constexpr const char* kClassifier = "classifier";
// Children of the MLP encoder and decoder, and of the prior network.
inline constexpr const char* kLayers = "layers";  // the hidden Linear layers, 0, 1, ...
inline constexpr const char* kMuHead = "mu_head";
inline constexpr const char* kLogvarHead = "logvar_head";
inline constexpr const char* kOut = "out";        // the decoder's last Linear layer
inline constexpr const char* kHidden = "hidden";  // the prior network's hidden layer
// The learned prior p(z | c): c -> Linear(C, kPriorWidth) + ReLU -> mu and logvar heads.
inline constexpr int64_t kPriorWidth = 128;

// Full names of Linear layers (their parameters are NAME.weight and NAME.bias).
inline std::string join(const char* a, const char* b) { return std::string(a) + "." + b; }
inline std::string encoder_layer(size_t i) {
  return join(kEncoder, kLayers) + "." + std::to_string(i);
}
inline std::string decoder_layer(size_t i) {
  return join(kDecoder, kLayers) + "." + std::to_string(i);
}
inline std::string encoder_mu_head() { return join(kEncoder, kMuHead); }
inline std::string encoder_logvar_head() { return join(kEncoder, kLogvarHead); }
inline std::string decoder_out() { return join(kDecoder, kOut); }
inline std::string prior_hidden() { return join(kPrior, kHidden); }
inline std::string prior_mu_head() { return join(kPrior, kMuHead); }
inline std::string prior_logvar_head() { return join(kPrior, kLogvarHead); }

}  // namespace cvae::weights
