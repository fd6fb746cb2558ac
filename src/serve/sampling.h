// What a request's sampling options mean, without torch: text decoding
// options and the resolution of the "auto" (-1) values per modality. Shared by
// cvae::generate, eval and the launcher's torch-free generate (lite/cli.h).
#pragma once

#include <cstdint>
#include <string>

#include "cvae/api.h"

namespace cvae::serve {

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

// What a request's sampling options mean for a model, with the "auto" values
// (-1) resolved per modality (cvae/api.h: kImageLatentTemperature,
// kImageCandidates, kTextCandidates) and validated (ConfigError naming the option).
//  - latent_temperature: the request's, else for images `temperature`, else
//    kImageLatentTemperature; for text 1;
//  - decode: the text decoding (decode.temperature = `temperature`, else 1);
//    decode.rerank is the number of candidates per sample for both modalities.
struct Sampling {
  double latent_temperature = 1.0;
  DecodeOptions decode;
};
Sampling resolve_sampling(bool text, double temperature, double latent_temperature,
                          const TextDecoding& decoding);

}  // namespace cvae::serve
