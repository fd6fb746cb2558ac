#include "lite/cli.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/container.h"
#include "core/model_header.h"
#include "core/report_error.h"
#include "core/runtime.h"
#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/labels.h"
#include "lite/mlp_sampler.h"
#include "lite/raw_tensors.h"
#include "modalities/image/image_output.h"
#include "serve/generate_output.h"

namespace cvae::lite {

namespace {

// Plain decimal numbers only ("12", "-1", "0.8", "1e-3"): anything CLI11 might
// read otherwise (a leading 0 is octal to it, "0x10" hex) goes to the full program.
bool plain_decimal(const std::string& s, bool fraction) {
  size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
  const size_t digits = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == digits) return false;
  if (s[digits] == '0' && i - digits > 1) return false;  // leading zero
  if (!fraction) return i == s.size();
  if (i < s.size() && s[i] == '.') {
    const size_t f = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == f) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    if (++i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t e = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == e) return false;
  }
  return i == s.size();
}

std::optional<int64_t> to_int(const std::string& s) {
  if (!plain_decimal(s, false)) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

std::optional<double> to_double(const std::string& s) {
  if (!plain_decimal(s, true)) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

// The parameters of an MLP decoder from raw tensors, by name and shape.
ParameterLookup raw_lookup(const std::vector<RawTensor>& raw, const std::string& path) {
  return [&raw, path](const std::string& name, const std::vector<int64_t>& shape) {
    for (const auto& r : raw)
      if (r.name == name && r.shape == shape) return r.values.data();
    throw CheckpointError(fmt::format("'{}': no parameter '{}' of the expected shape", path, name));
  };
}

}  // namespace

std::optional<int> try_generate(int argc, const char* const* argv) {
  if (argc < 3 || std::string(argv[1]) != "generate") return std::nullopt;
  // Into the request cvae::generate takes, from its defaults.
  GenerateRequest req;
  std::set<std::string> seen;
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i], value;
    const auto eq = name.find('=');
    if (name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return std::nullopt;
    }
    if (name == "--count") name = "-n";
    if (!seen.insert(name).second) return std::nullopt;
    // CLI11 reads "-x" as the next option (not a value) unless it is a number.
    if (!value.empty() && value[0] == '-' && !plain_decimal(value, true)) return std::nullopt;
    if (name == "--model") {
      req.model = value;
    } else if (name == "--label") {
      req.labels = {value};
    } else if (name == "--sampler") {
      req.sampler = value;
    } else if (name == "--format") {
      req.format = value;
    } else if (name == "--out") {
      req.out = value;
    } else if (name == "--temperature" || name == "--latent-temperature") {
      const auto v = to_double(value);
      if (!v) return std::nullopt;
      (name == "--temperature" ? req.temperature : req.latent_temperature) = *v;
    } else if (name == "-n" || name == "--seed" || name == "--rerank" || name == "--threads") {
      const auto v = to_int(value);
      if (!v || (name == "--seed" && *v < 0) ||
          (name == "--threads" && (*v < 0 || *v > std::numeric_limits<int>::max())))
        return std::nullopt;
      if (name == "-n") req.n = *v;
      if (name == "--seed") req.seed = static_cast<uint64_t>(*v);
      if (name == "--rerank") req.decoding.rerank = *v;
      if (name == "--threads") req.threads = static_cast<int>(*v);
    } else {
      return std::nullopt;  // an option this path does not take
    }
  }
  if (req.model.empty() || req.threads < 0 || req.threads > 1024 ||
      (req.sampler != "auto" && req.sampler != "prior") ||
      (req.format != "auto" && req.format != "png" && req.format != "idx"))
    return std::nullopt;

  // The checks cvae::generate makes, on the model file too; any failure is
  // the full program's to report.
  core::Sampling sampling;
  ModelConfig cfg;
  std::vector<RawTensor> raw;
  data::LabelRows rows;
  MlpDecoder dec;
  try {
    serve::check_generate_request(req);
    sampling = core::resolve_sampling(modalities::image::kSamplingDefaults, req.temperature,
                                      req.latent_temperature, req.decoding);
    if (sampling.decode.rerank != 1) return std::nullopt;  // candidates need the encoder
    core::Container c = core::read_container(req.model);
    cfg = core::read_model_header(c, req.model).model;
    if (!sampler_supports(cfg) ||
        (req.sampler == "auto" && c.blobs.count("sampler/latent_mixture")))
      return std::nullopt;
    auto it = c.blobs.find("inference/weights_f32");
    if (it == c.blobs.end()) return std::nullopt;
    raw = decode_raw_tensors(it->second, req.model);
    rows = data::parse_label_rows(cfg.conditions, req.labels);
    serve::check_sample_count(static_cast<int64_t>(rows.size()), req.n);
    dec = mlp_decoder(cfg, raw_lookup(raw, req.model));
    if (cfg.input_shape[0] != 1 && cfg.input_shape[0] != 3 && req.format != "idx")
      return std::nullopt;  // PNG holds 1 or 3 channels: the full program says so
  } catch (const std::exception&) {
    return std::nullopt;
  }

  try {
    core::set_native_threads(req.threads);  // as the full program
    const auto means = sample_means(dec, rows, req.n, sampling.latent_temperature, req.seed);
    std::vector<uint8_t> bytes(means.size());
    to_bytes(means.data(), static_cast<int64_t>(means.size()), bytes.data());
    GenerateResult res;
    res.count = static_cast<int64_t>(rows.size()) * req.n;
    for (const auto& r : rows) res.labels.push_back(data::label_row_name(cfg.conditions, r));
    res.files =
        modalities::image::write_image_samples(req.out, req.format == "idx" ? "idx" : "png",
                                               std::move(bytes), cfg.input_shape, rows, req.n);
    fmt::print("{}\n", serve::generate_summary(res, req.n));
    return 0;
  } catch (...) {
    return core::report_exception();  // as tools/cvae/main.cpp
  }
}

}  // namespace cvae::lite
