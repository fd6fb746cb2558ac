#include "core/sampling.h"

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::core {

void DecodeOptions::validate() const {
  if (method != "greedy" && method != "sample" && method != "beam") {
    throw ConfigError(
        fmt::format("unknown --decode (got '{}' vs expected greedy, sample or beam)", method));
  }
  if (!(temperature >= 1e-3 && temperature <= 100)) {
    throw ConfigError(fmt::format(
        "--temperature out of range for text (got {} vs expected 0.001..100; --decode greedy "
        "for the most likely words)",
        temperature));
  }
  if (top_k < 0 || top_k > (int64_t{1} << 30)) {
    throw ConfigError(fmt::format("--top-k out of range (got {} vs expected 0 or more)", top_k));
  }
  if (!(top_p > 0 && top_p <= 1)) {
    throw ConfigError(fmt::format("--top-p out of range (got {} vs expected > 0 and <= 1)", top_p));
  }
  if (beam < 1 || beam > 1000) {
    throw ConfigError(fmt::format("--beam out of range (got {} vs expected 1..1000)", beam));
  }
  if (rerank < 1 || rerank > 1000) {
    throw ConfigError(
        fmt::format("--rerank out of range (got {} vs expected 1..1000, or -1 = auto)", rerank));
  }
}

Sampling resolve_sampling(const SamplingDefaults& defaults, double temperature,
                          double latent_temperature, const TextDecoding& decoding) {
  // -1 is "auto"; NaN and other values outside 0..100 are errors.
  auto check = [](const char* option, double t) {
    if (t != -1 && !(t >= 0 && t <= 100)) {
      throw ConfigError(
          fmt::format("{} out of range (got {} vs expected 0..100, or -1 = auto)", option, t));
    }
  };
  check("--temperature", temperature);
  check("--latent-temperature", latent_temperature);
  Sampling s;
  const bool latent = defaults.temperature_is_latent;
  s.latent_temperature = latent_temperature >= 0      ? latent_temperature
                         : latent && temperature >= 0 ? temperature
                                                      : defaults.latent_temperature;
  s.decode.method = decoding.method;
  s.decode.top_k = decoding.top_k;
  s.decode.top_p = decoding.top_p;
  s.decode.beam = decoding.beam;
  s.decode.rerank = decoding.rerank == -1 ? defaults.candidates : decoding.rerank;
  s.decode.temperature = !latent && temperature >= 0 ? temperature : 1.0;
  s.decode.validate();
  return s;
}

}  // namespace cvae::core
