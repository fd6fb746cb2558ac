#include "lite/cli.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "core/container.h"
#include "core/model_header.h"
#include "core/report_error.h"
#include "core/runtime.h"
#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "io/labels.h"
#include "lite/generate_options.h"
#include "lite/generate_output.h"
#include "lite/mlp_sampler.h"
#include "lite/raw_tensors.h"
#include "modalities/image/lite/image_output.h"

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

// The shape of command line this path has always taken: `generate`, then
// each option as `--name=value` or `name value` (name "-n" or "--" and a
// name), with a value that starts with '-' only when it is a plain number.
// Everything else goes to the full program as before: where CLI11 reads it
// as this path did ("--out -x.png": CLI11 takes the next argument for a value
// whatever it is) and where it does not ("--", after which there are no
// options; "-n4"; "--name=", whose value CLI11 takes from the next argument;
// a second value after --label; a flag).
bool plain_shape(int argc, const char* const* argv) {
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    const auto eq = name.find('=');
    const bool long_name = name.size() > 2 && name.rfind("--", 0) == 0;
    std::string value;
    if (long_name && eq != std::string::npos) {
      value = name.substr(eq + 1);
      if (value.empty()) return false;
    } else if ((long_name || name == "-n") && i + 1 < argc) {
      value = argv[++i];
    } else {
      return false;
    }
    if (!value.empty() && value[0] == '-' && !plain_decimal(value, true)) return false;
  }
  return true;
}

// The request of a command line that this path can serve, read with the full
// program's options (lite/generate_options.h): only the options it supports,
// each once, with the values it has always read (plain decimal numbers); else
// nullopt, and the full program reads it (and reports any error).
std::optional<GenerateRequest> read_request(int argc, const char* const* argv) {
  if (argc < 3 || std::string(argv[1]) != "generate" || !plain_shape(argc, argv))
    return std::nullopt;
  GenerateRequest req;  // the defaults of cvae::generate's request
  try {
    CLI::App app;
    add_generate_options(app, req);
    app.parse(argc - 1, argv + 1);  // argv[1], "generate", stands for the program name
    const auto given = [&app](const char* name) -> std::optional<std::string> {
      const CLI::Option* opt = app.get_option(name);
      if (opt->count() == 0) return std::nullopt;
      return opt->results().front();
    };
    std::set<const CLI::Option*> supported;
    for (const char* name : {"--model", "--label", "-n", "--temperature", "--latent-temperature",
                             "--sampler", "--seed", "--rerank", "--format", "--out", "--threads"})
      supported.insert(app.get_option(name));
    for (const CLI::Option* opt : app.get_options())
      if (opt->count() > 1 || (opt->count() == 1 && !supported.count(opt))) return std::nullopt;

    // Strings as given (one label argument, split by the label parser).
    if (const auto v = given("--label"); v && req.labels != std::vector<std::string>{*v})
      return std::nullopt;
    for (const auto& [name, field] :
         {std::pair<const char*, const std::string*>{"--model", &req.model},
          {"--sampler", &req.sampler},
          {"--format", &req.format},
          {"--out", &req.out}})
      if (const auto v = given(name); v && *v != *field) return std::nullopt;
    // Numbers as this path has always read them: plain decimals (CLI11 reads
    // "010" as octal, "0x10" as hex, "-1" as 2^64 - 1 for the seed and clamps
    // what overflows), doubles by strtod (CLI11 rounds through long double).
    for (const auto& [name, field] :
         {std::pair<const char*, double*>{"--temperature", &req.temperature},
          {"--latent-temperature", &req.latent_temperature}}) {
      const auto v = given(name);
      if (!v) continue;
      const auto d = to_double(*v);
      if (!d) return std::nullopt;
      *field = *d;
    }
    for (const char* name : {"-n", "--seed", "--rerank", "--threads"}) {
      const auto v = given(name);
      if (!v) continue;
      const auto i = to_int(*v);
      if (!i) return std::nullopt;
      const std::string n = name;
      const bool same = n == "-n"         ? req.n == *i
                        : n == "--seed"   ? *i >= 0 && req.seed == static_cast<uint64_t>(*i)
                        : n == "--rerank" ? req.decoding.rerank == *i
                                          : req.threads == *i;
      if (!same) return std::nullopt;
    }
  } catch (...) {
    return std::nullopt;  // --help, an unknown option, a bad value: the full program's
  }
  if (req.model.empty() || req.threads < 0 || req.threads > 1024 ||
      (req.sampler != "auto" && req.sampler != "prior") ||
      (req.format != "auto" && req.format != "png" && req.format != "idx"))
    return std::nullopt;
  return req;
}

}  // namespace

std::optional<int> try_generate(int argc, const char* const* argv) {
  std::optional<GenerateRequest> request = read_request(argc, argv);
  if (!request) return std::nullopt;
  const GenerateRequest& req = *request;

  // The checks cvae::generate makes, on the model file too; any failure is
  // the full program's to report.
  core::Sampling sampling;
  ModelConfig cfg;
  std::vector<RawTensor> raw;
  io::LabelRows rows;
  MlpDecoder dec;
  try {
    lite::check_generate_request(req);
    sampling = core::resolve_sampling(modalities::image::kSamplingDefaults, req.temperature,
                                      req.latent_temperature, req.decoding);
    if (sampling.decode.rerank != 1) return std::nullopt;  // candidates need the encoder
    core::Container c = core::read_container(req.model);
    cfg = core::read_model_header(c, req.model).model;
    if (!sampler_supports(cfg) ||
        (req.sampler == "auto" && c.blobs.count("sampler/latent_mixture")))
      return std::nullopt;
    auto it = c.blobs.find(core::kRawWeightsBlob);
    if (it == c.blobs.end()) return std::nullopt;
    raw = decode_raw_tensors(it->second, req.model);
    rows = io::parse_label_rows(cfg.conditions, req.labels);
    lite::check_sample_count(static_cast<int64_t>(rows.size()), req.n);
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
    for (const auto& r : rows) res.labels.push_back(io::label_row_name(cfg.conditions, r));
    res.files =
        modalities::image::write_image_samples(req.out, req.format == "idx" ? "idx" : "png",
                                               std::move(bytes), cfg.input_shape, rows, req.n);
    fmt::print("{}\n", lite::generate_summary(res, req.n));
    return 0;
  } catch (...) {
    return core::report_exception();  // as tools/cvae/main.cpp
  }
}

}  // namespace cvae::lite
