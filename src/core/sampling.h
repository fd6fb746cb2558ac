// What a request's sampling options mean, without torch: decoding options and
// the resolution of the "auto" (-1) values with a modality's defaults
// (modalities/modality.h). Shared by cvae::generate, eval and the launcher's
// torch-free generate (lite/cli.h).
#pragma once

#include <cstdint>
#include <string>

#include "cvae/api.h"

namespace cvae::core {

struct DecodeOptions {
  std::string method = "greedy";  // greedy | sample | beam
  double temperature = 1.0;       // sample: logits are divided by it (> 0)
  int64_t top_k = 0;              // sample: only the k most likely tokens (0 = all)
  double top_p = 1.0;             // sample: the smallest set holding this probability (nucleus)
  int64_t beam = 5;               // beam: width
  // Candidates per text (sample_text): keep the one that the model itself most
  // assigns to the requested label; 1 = no reranking.
  int64_t rerank = 1;
  void validate() const;  // ConfigError naming the option
};

// What "auto" (-1) means for a modality's sampling options.
struct SamplingDefaults {
  // Whether --temperature scales the latent sampler (images) rather than the
  // decoder's softmax (text).
  bool temperature_is_latent = true;
  double latent_temperature = 1.0;  // when neither temperature is given
  int64_t candidates = 1;           // --rerank -1
};

// What a request's sampling options mean for a model, with the "auto" values
// (-1) resolved by its modality's defaults and validated (ConfigError naming
// the option):
//  - latent_temperature: the request's, else `temperature` when that is the
//    latent one, else defaults.latent_temperature;
//  - decode: the decoding (decode.temperature = `temperature` when that is the
//    softmax one, else 1); decode.rerank is the number of candidates per sample.
struct Sampling {
  double latent_temperature = 1.0;
  DecodeOptions decode;
};
Sampling resolve_sampling(const SamplingDefaults& defaults, double temperature,
                          double latent_temperature, const TextDecoding& decoding);

}  // namespace cvae::core
