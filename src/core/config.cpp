// validate() for the config structs in include/cvae/config.h.
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/config.h"
#include "cvae/errors.h"

namespace cvae {
namespace {

template <typename T>
void check_range(const char* field, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi)) {
    throw ConfigError(
        fmt::format("{} out of range (got {} vs expected {}..{})", field, value, lo, hi));
  }
}

void check_finite(const char* field, double value) {
  if (!std::isfinite(value)) {
    throw ConfigError(fmt::format("{} must be a finite number (got {})", field, value));
  }
}

}  // namespace

int64_t condition_width(const std::vector<ConditionSpec>& conditions) {
  int64_t width = 0;
  for (const auto& c : conditions) width += static_cast<int64_t>(c.labels.size());
  return width;
}

std::vector<int64_t> conv_spatial_sizes(int64_t size, size_t layers) {
  // Each encoder convolution (kernel 4, stride 2, padding 1) gives floor(size / 2).
  std::vector<int64_t> sizes = {size};
  for (size_t i = 0; i < layers; ++i) sizes.push_back(sizes.back() / 2);
  return sizes;
}

std::string resolved_arch(const std::vector<int64_t>& input_shape,
                          const std::vector<int64_t>& channels, const std::string& arch) {
  if (arch != "auto") return arch;
  const int64_t need = int64_t{1} << std::min<size_t>(channels.size(), 20);
  const bool image = input_shape.size() == 3 && input_shape[1] >= need && input_shape[2] >= need;
  return image && !channels.empty() ? "conv" : "mlp";
}

std::string resolved_arch(const ModelConfig& cfg) {
  if (cfg.arch == "auto" && !cfg.vocabulary.empty()) return "rnn";
  return resolved_arch(cfg.input_shape, cfg.channels, cfg.arch);
}

std::string resolved_likelihood(const ModelConfig& cfg) {
  if (cfg.likelihood != "auto") return cfg.likelihood;
  return cfg.vocabulary.empty() ? "bernoulli" : "categorical";
}

void ModelConfig::validate() const {
  if (arch != "mlp" && arch != "conv" && arch != "rnn" && arch != "auto") {
    throw ConfigError(fmt::format(
        "unknown architecture (got '{}' vs expected one of: auto, mlp, conv, rnn)", arch));
  }
  const std::string arch = resolved_arch(*this);
  const std::string likelihood = resolved_likelihood(*this);
  if (likelihood != "bernoulli" && likelihood != "cbernoulli" && likelihood != "gaussian" &&
      likelihood != "categorical") {
    throw ConfigError(
        fmt::format("unknown likelihood (got '{}' vs expected one of: auto, bernoulli, "
                    "cbernoulli, gaussian, categorical)",
                    likelihood));
  }
  const bool text = !vocabulary.empty();
  if (text != (likelihood == "categorical")) {
    throw ConfigError(
        fmt::format("likelihood '{}' does not fit the data (expected categorical for text, and for "
                    "text only)",
                    likelihood));
  }
  if (text != (arch == "rnn")) {
    throw ConfigError(fmt::format(
        "architecture '{}' does not fit the data (expected rnn for text, and for text only)",
        arch));
  }
  if (text) {
    if (input_shape.size() != 1) {
      throw ConfigError(
          fmt::format("text needs a 1-dimensional shape (got {} dimensions)", input_shape.size()));
    }
    check_range<int64_t>("vocabulary size", static_cast<int64_t>(vocabulary.size()), 5, 1 << 22);
    check_range<int64_t>("--embedding", embedding, 1, 65536);
    check_finite("--word-dropout", word_dropout);
    check_range("--word-dropout", word_dropout, 0.0, 1.0);
    if (hidden.size() != 1) {
      throw ConfigError(fmt::format(
          "rnn takes one hidden width, the GRU state size (got {} widths)", hidden.size()));
    }
  }
  if (prior != "standard" && prior != "learned") {
    throw ConfigError(
        fmt::format("unknown prior (got '{}' vs expected one of: standard, learned)", prior));
  }
  if (input_shape.empty()) throw ConfigError("input shape is empty (expected e.g. 1,28,28)");
  for (auto d : input_shape) check_range<int64_t>("input shape dimension", d, 1, 1 << 20);
  if (hidden.empty()) throw ConfigError("hidden widths are empty (expected e.g. 512 or 512,256)");
  if (hidden.size() > 16) {
    throw ConfigError(
        fmt::format("too many hidden layers (got {} vs expected at most 16)", hidden.size()));
  }
  for (auto h : hidden) check_range<int64_t>("hidden width", h, 1, 65536);
  check_range<int64_t>("latent size", latent, 1, 4096);
  check_finite("logvar_min", logvar_min);
  check_finite("logvar_max", logvar_max);
  if (!(logvar_min < logvar_max)) {
    throw ConfigError(
        fmt::format("logvar clamp range is empty (got [{}, {}])", logvar_min, logvar_max));
  }
  if (conditions.empty()) throw ConfigError("the model has no condition (expected at least one)");
  if (classifier && conditions.size() != 1) {
    throw ConfigError(
        fmt::format("semi-supervised training needs one condition (got {})", conditions.size()));
  }
  // Parameters of the encoder and decoder (weights only); weights, gradients and
  // Adam's two moments take 16 bytes each, so this bound keeps training within ~16 GiB.
  double features = 1;
  for (auto d : input_shape) features *= static_cast<double>(d);
  const double cond = static_cast<double>(condition_width(conditions));
  const double ppf = likelihood == "gaussian" ? 2 : 1;
  double params = 0;
  double flat = features;  // what the dense layers see of x
  if (text) {
    // Embeddings, GRUs (3 gates), output layer, heads.
    const double v = static_cast<double>(vocabulary.size()), e = static_cast<double>(embedding);
    const double h = static_cast<double>(hidden[0]), z = static_cast<double>(latent);
    params = 2 * v * e + 3 * h * (e + cond + h + 2) + 3 * h * (e + z + cond + h + 2) +
             (h + z + cond + 1) * v + 2 * (h + cond) * z;
    if (params > double(1 << 30)) {
      throw ConfigError(fmt::format(
          "model too large (got {:.0f} parameters vs expected at most {:.0f}); use a smaller "
          "--hidden, --embedding or vocabulary (--min-count)",
          params, double(1 << 30)));
    }
  } else if (arch == "conv") {
    if (input_shape.size() != 3) {
      throw ConfigError(
          fmt::format("the conv architecture needs images C x H x W (got a {}-dimensional shape)",
                      input_shape.size()));
    }
    if (channels.empty() || channels.size() > 6) {
      throw ConfigError(
          fmt::format("conv channels: expected 1 to 6 layers (got {})", channels.size()));
    }
    for (auto ch : channels) check_range<int64_t>("conv channels", ch, 1, 4096);
    const int64_t need = int64_t{1} << channels.size();
    if (input_shape[1] < need || input_shape[2] < need) {
      throw ConfigError(fmt::format(
          "images too small for {} stride-2 convolutions (got {}x{} vs expected at least {}x{}); "
          "use fewer --channels",
          channels.size(), input_shape[1], input_shape[2], need, need));
    }
    double in = static_cast<double>(input_shape[0]);
    for (auto ch : channels) {
      params += 2 * 16 * in * static_cast<double>(ch);  // encoder and mirrored decoder
      in = static_cast<double>(ch);
    }
    const auto hs = conv_spatial_sizes(input_shape[1], channels.size());
    const auto ws = conv_spatial_sizes(input_shape[2], channels.size());
    flat = in * static_cast<double>(hs.back() * ws.back());
  }
  if (!text) {
    double in = flat + cond;
    for (auto h : hidden) params += (in + 1) * static_cast<double>(h), in = static_cast<double>(h);
    params += 2 * (in + 1) * static_cast<double>(latent);
    in = static_cast<double>(latent) + cond;
    for (auto it = hidden.rbegin(); it != hidden.rend(); ++it) {
      params += (in + 1) * static_cast<double>(*it);
      in = static_cast<double>(*it);
    }
    params += (in + 1) * flat * (arch == "conv" ? 1 : ppf);
    constexpr double kMaxParams = 1 << 30;
    if (params > kMaxParams) {
      throw ConfigError(
          fmt::format("model too large (got {:.0f} parameters vs expected at most {:.0f}); use "
                      "smaller --hidden widths or images",
                      params, kMaxParams));
    }
  }
  std::set<std::string> names;
  for (const auto& c : conditions) {
    if (c.kind != "categorical") {
      throw ConfigError(
          fmt::format("unsupported condition kind for '{}' (got '{}' vs expected categorical)",
                      c.name, c.kind));
    }
    if (c.labels.empty()) {
      throw ConfigError(fmt::format("condition '{}' has no labels (expected at least 1)", c.name));
    }
    if (!names.insert(c.name).second) {
      throw ConfigError(fmt::format("condition name '{}' appears twice", c.name));
    }
    std::set<std::string> labels(c.labels.begin(), c.labels.end());
    if (labels.size() != c.labels.size()) {
      throw ConfigError(fmt::format("condition '{}' has duplicate label names", c.name));
    }
  }
}

void TrainConfig::validate() const {
  check_range<int64_t>("--epochs", epochs, 1, 1000000);
  check_range<int64_t>("--batch-size", batch_size, 1, 1 << 20);
  check_finite("--lr", lr);
  if (!(lr > 0 && lr <= 10)) {
    throw ConfigError(fmt::format("--lr out of range (got {} vs expected > 0 and <= 10)", lr));
  }
  check_finite("--beta", beta);
  check_range("--beta", beta, 0.0, 1000.0);
  check_finite("--kl-warmup", kl_warmup);
  check_range("--kl-warmup", kl_warmup, 0.0, 1e6);
  check_range<int64_t>("--kl-cycles", kl_cycles, 0, 100000);
  check_finite("--kl-cycle-ratio", kl_cycle_ratio);
  if (!(kl_cycle_ratio > 0 && kl_cycle_ratio <= 1)) {
    throw ConfigError(fmt::format("--kl-cycle-ratio out of range (got {} vs expected > 0 and <= 1)",
                                  kl_cycle_ratio));
  }
  if (kl_cycles > 0 && kl_warmup > 0) {
    throw ConfigError("--kl-cycles and --kl-warmup both set (expected one KL schedule)");
  }
  check_finite("--free-bits", free_bits);
  if (free_bits != -1) check_range("--free-bits", free_bits, 0.0, 100.0);
  check_range<int64_t>("--gmm-components", gmm_components, 0, 1000);
  check_range<int64_t>("--labelled", labelled, 0, int64_t{1} << 40);
  check_finite("--ssl-alpha", ssl_alpha);
  check_range("--ssl-alpha", ssl_alpha, 0.0, 1e9);
  check_finite("--grad-clip", grad_clip);
  check_range("--grad-clip", grad_clip, 0.0, 1e9);
  check_range("--val-fraction", val_fraction, 0.0, 0.9);
  check_range<int64_t>("--save-every", save_every, 0, int64_t{1} << 40);
  check_range("--threads", threads, 0, 1024);
}

void DataConfig::validate() const {
  if (path.empty()) throw ConfigError("no data path given (expected --data DIR)");
  check_range("--image-height", image_height, 0, 16384);
  check_range("--image-width", image_width, 0, 16384);
  if ((image_height == 0) != (image_width == 0)) {
    throw ConfigError(fmt::format("image size needs both height and width (got {}x{})",
                                  image_height, image_width));
  }
  if (channels != 0 && channels != 1 && channels != 3) {
    throw ConfigError(
        fmt::format("--channels out of range (got {} vs expected 0, 1 or 3)", channels));
  }
  if (modality != "auto" && modality != "image" && modality != "text") {
    throw ConfigError(
        fmt::format("unknown modality (got '{}' vs expected one of: auto, image, text)", modality));
  }
  check_range<int64_t>("--max-tokens", max_tokens, 2, 4096);
  check_range<int64_t>("--min-count", min_count, 1, 1 << 30);
  if (label_column.empty() || text_column.empty() || label_column == text_column) {
    throw ConfigError(
        fmt::format("CSV columns must be two different non-empty names (got label '{}', text '{}')",
                    label_column, text_column));
  }
}

}  // namespace cvae
