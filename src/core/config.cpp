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

void ModelConfig::validate() const {
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
  if (modality.empty()) {
    throw ConfigError("no modality given (expected auto or the name of one, e.g. image or text)");
  }
  check_range<int64_t>("--max-tokens", max_tokens, 2, 4096);
  check_range<int64_t>("--min-count", min_count, 1, 1 << 30);
  check_range<int64_t>("--heldout-users", heldout_users, 1, 1 << 30);
  if (label_column.empty() || text_column.empty() || label_column == text_column) {
    throw ConfigError(
        fmt::format("CSV columns must be two different non-empty names (got label '{}', text '{}')",
                    label_column, text_column));
  }
}

}  // namespace cvae
