#include "lite/cli.h"

#include <omp.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif
#include <sched.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/config_json.h"
#include "core/container.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/idx.h"
#include "data/labels.h"
#include "data/png.h"
#include "lite/mlp_sampler.h"
#include "lite/raw_tensors.h"

namespace cvae::lite {

namespace {

// Options this path understands (generate's own names); the value of each.
const char* const kOptions[] = {
    "--model",   "--label", "-n",       "--count",  "--temperature", "--latent-temperature",
    "--sampler", "--seed",  "--rerank", "--format", "--out",         "--threads"};

bool known(const std::string& name) {
  for (const char* o : kOptions)
    if (name == o) return true;
  return false;
}

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

int cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

}  // namespace

std::optional<int> try_generate(int argc, const char* const* argv) {
  if (argc < 3 || std::string(argv[1]) != "generate") return std::nullopt;
  std::map<std::string, std::string> opt;
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
    if (!known(name) || opt.count(name)) return std::nullopt;
    // CLI11 reads "-x" as the next option (not a value) unless it is a number.
    if (!value.empty() && value[0] == '-' && !plain_decimal(value, true)) return std::nullopt;
    opt[name] = value;
  }
  auto get = [&](const char* name, const char* fallback) {
    auto it = opt.find(name);
    return it == opt.end() ? std::string(fallback) : it->second;
  };
  if (!opt.count("--model")) return std::nullopt;
  const auto n = to_int(get("-n", "10"));
  const auto temperature = to_double(get("--temperature", "-1"));
  const auto latent_temperature = to_double(get("--latent-temperature", "-1"));
  const auto seed = to_int(get("--seed", "1"));
  const auto rerank = to_int(get("--rerank", "-1"));
  const auto threads = to_int(get("--threads", "0"));
  const std::string sampler = get("--sampler", "auto"), format = get("--format", "auto");
  if (!n || !temperature || !latent_temperature || !seed || !rerank || !threads)
    return std::nullopt;
  auto in_range = [](double t) { return t == -1 || (t >= 0 && t <= 100); };
  if (*n < 1 || *n > 100000 || !in_range(*temperature) || !in_range(*latent_temperature) ||
      *seed < 0 || *rerank != 1 || *threads < 0 || *threads > 1024 ||
      (sampler != "auto" && sampler != "prior") ||
      (format != "auto" && format != "png" && format != "idx"))
    return std::nullopt;
  const double t = *latent_temperature >= 0 ? *latent_temperature
                   : *temperature >= 0      ? *temperature
                                            : kImageLatentTemperature;
  const std::string path = opt["--model"];
  std::string label_option = get("--label", "all");

  // The model: only files whose header, weights and sampler this path reads.
  ModelConfig cfg;
  std::vector<RawTensor> raw;
  data::LabelRows rows;
  try {
    core::Container c = core::read_container(path);
    if (c.header.value("program", std::string()) != "cvae" ||
        c.header.value("kind", std::string("model")) != "model")
      return std::nullopt;
    // What models::load_model_file requires of a model file, too.
    if (!c.header.contains("train") || !c.header.contains("state") || !c.blobs.count("weights"))
      return std::nullopt;
    cfg = c.header.at("model").get<ModelConfig>();
    cfg.validate();
    c.header.at("train").get<TrainConfig>();
    if (!sampler_supports(cfg) || (c.blobs.count("sampler/latent_mixture") && sampler == "auto"))
      return std::nullopt;
    if (cfg.input_shape[0] != 1 && cfg.input_shape[0] != 3 && format != "idx")
      return std::nullopt;  // PNG holds 1 or 3 channels: the full program says so
    auto it = c.blobs.find("inference/weights_f32");
    if (it == c.blobs.end()) return std::nullopt;
    raw = decode_raw_tensors(it->second, path);
    rows = data::parse_label_rows(cfg.conditions, {label_option});
  } catch (const std::exception&) {
    return std::nullopt;  // the full program reports it
  }
  const int64_t m = static_cast<int64_t>(rows.size());
  if (m * *n > 1000000) return std::nullopt;
  std::map<std::string, const RawTensor*> by_name;
  for (const auto& r : raw) by_name[r.name] = &r;
  MlpDecoder dec;
  try {
    dec = mlp_decoder(cfg, [&](const std::string& name, const std::vector<int64_t>& shape) {
      auto it = by_name.find(name);
      if (it == by_name.end() || it->second->shape != shape)
        throw CheckpointError(
            fmt::format("'{}': no parameter '{}' of the expected shape", path, name));
      return it->second->values.data();
    });
  } catch (const std::exception&) {
    return std::nullopt;
  }

  try {
    // As core::set_threads in the full program: flush denormals to zero (before
    // OpenMP starts its threads, which inherit it), so both compute the same bits.
#if defined(__x86_64__) || defined(_M_X64)
    _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ | DAZ
#endif
    omp_set_num_threads(*threads == 0 ? cores() : static_cast<int>(*threads));
    const auto means = sample_means(dec, rows, *n, t, static_cast<uint64_t>(*seed));
    const int64_t total = m * *n;
    std::vector<uint8_t> bytes(means.size());
    to_bytes(means.data(), static_cast<int64_t>(means.size()), bytes.data());
    std::string out = get("--out", "");
    if (out.empty()) out = "samples.png";  // as cvae::generate
    core::create_parent_dirs(out);
    std::vector<std::string> files;
    if (format == "idx") {
      data::LabelRows labels;
      for (const auto& r : rows) labels.insert(labels.end(), static_cast<size_t>(*n), r);
      files = data::write_idx_samples(
          data::idx_prefix(out), std::move(bytes),
          {total, cfg.input_shape[0], cfg.input_shape[1], cfg.input_shape[2]}, labels);
    } else {
      const auto [grid_rows, cols] = data::sample_grid_shape(m, *n);
      data::write_png(out, data::make_grid(bytes, total, cfg.input_shape[0], cfg.input_shape[1],
                                           cfg.input_shape[2], grid_rows, cols));
      files = {out};
    }
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(data::label_row_name(cfg.conditions, r));
    fmt::print("wrote {} ({} samples: {} for each of {} label(s): {})\n", fmt::join(files, " and "),
               total, *n, m, fmt::join(names, " "));
    return 0;
  } catch (const Error& e) {  // as tools/cvae/main.cpp reports them
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "error: out of memory (try a smaller --batch-size or fewer samples)\n");
    return 1;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    fmt::print(stderr, "error: internal error: {}\n", what.substr(0, what.find('\n')));
    return 3;
  }
}

}  // namespace cvae::lite
