#include "models/backbone.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/once.h"
#include "cvae/errors.h"
#include "models/likelihood.h"
#include "models/mlp.h"

namespace cvae::models {
namespace {

struct Registry {
  std::map<std::string, std::shared_ptr<const Backbone>> backbones;
  std::vector<std::shared_ptr<const ModelKind>> kinds;  // in registration order
};

Registry& raw_registry() {
  static Registry r;
  return r;
}

// True while the model layer's own backbone registers itself.
thread_local bool g_registering_builtins = false;

}  // namespace

void ensure_builtin_registrations() {
  static std::once_flag once;
  core::call_once_reentrant(once, g_registering_builtins,
                            [] { register_backbone(mlp_backbone()); });
}

namespace {

Registry& registry() {
  ensure_builtin_registrations();
  return raw_registry();
}

// A lookup before the modalities registered themselves is the caller's bug,
// not the user's: say so rather than list only "mlp".
void require_modalities(const Registry& r) {
  if (r.kinds.empty()) {
    throw ConfigError(
        "no modality is registered: call cvae::modalities::register_builtins() first (every "
        "public API function does)");
  }
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

void register_backbone(std::shared_ptr<const Backbone> backbone) {
  auto& r = registry();
  const std::string name = backbone->name();
  if (!r.backbones.emplace(name, std::move(backbone)).second)
    throw ConfigError(fmt::format("backbone '{}' is registered twice", name));
}

void register_model_kind(std::shared_ptr<const ModelKind> kind) {
  auto& r = registry();
  for (const auto& k : r.kinds) {
    if (k->modality() == kind->modality())
      throw ConfigError(fmt::format("modality '{}' is registered twice", kind->modality()));
  }
  r.kinds.push_back(std::move(kind));
}

std::vector<std::string> backbone_names() {
  std::vector<std::string> names;
  for (const auto& [name, b] : registry().backbones) names.push_back(name);
  return names;
}

const Backbone& backbone(const std::string& arch) {
  auto& r = registry();
  auto it = r.backbones.find(arch);
  if (it == r.backbones.end()) {
    require_modalities(r);
    throw ConfigError(fmt::format("unknown architecture (got '{}' vs expected one of: auto, {})",
                                  arch, fmt::join(backbone_names(), ", ")));
  }
  return *it->second;
}

std::vector<std::string> model_kind_names() {
  std::vector<std::string> names;
  for (const auto& k : registry().kinds) names.push_back(k->modality());
  return names;
}

const ModelKind& model_kind(const std::string& modality) {
  auto& r = registry();
  for (const auto& k : r.kinds) {
    if (k->modality() == modality) return *k;
  }
  require_modalities(r);
  throw ConfigError(fmt::format("unknown modality (got '{}' vs expected one of: {})", modality,
                                fmt::join(model_kind_names(), ", ")));
}

const ModelKind& model_kind_of(const std::string& modality, const std::vector<int64_t>& shape,
                               const std::vector<std::string>& vocabulary) {
  if (!modality.empty()) return model_kind(modality);
  auto& r = registry();
  for (const auto& k : r.kinds) {
    if (k->owns_unnamed(shape, vocabulary)) return *k;
  }
  require_modalities(r);
  throw ConfigError(
      fmt::format("the model does not name its modality and none of {} reads examples of shape {}",
                  fmt::join(model_kind_names(), ", "), fmt::join(shape, "x")));
}

const ModelKind& model_kind_of(const ModelConfig& cfg) {
  return model_kind_of(cfg.modality, cfg.input_shape, cfg.vocabulary);
}

ModelConfig resolve_model_config(ModelConfig cfg) {
  cfg.validate();
  if (cfg.arch != "auto") (void)backbone(cfg.arch);  // ConfigError for an unknown name first
  const ModelKind& kind = model_kind_of(cfg);
  cfg.modality = kind.modality();
  if (cfg.arch == "auto") cfg.arch = kind.default_arch(cfg);
  if (cfg.likelihood == "auto") cfg.likelihood = kind.default_likelihood(cfg);
  const Backbone& net = backbone(cfg.arch);                    // ConfigError for an unknown name
  const auto likelihood = make_likelihood(cfg.likelihood, 5);  // ConfigError for an unknown one
  if (!contains(kind.likelihoods(), cfg.likelihood)) {
    throw ConfigError(fmt::format("likelihood '{}' does not fit {} data (expected one of: {})",
                                  cfg.likelihood, kind.modality(),
                                  fmt::join(kind.likelihoods(), ", ")));
  }
  if (!contains(kind.archs(), cfg.arch)) {
    throw ConfigError(fmt::format("architecture '{}' does not fit {} data (expected one of: {})",
                                  cfg.arch, kind.modality(), fmt::join(kind.archs(), ", ")));
  }
  net.validate(cfg);
  // Weights, gradients and Adam's two moments take 16 bytes a parameter, so
  // this bound keeps training within ~16 GiB.
  constexpr double kMaxParams = 1 << 30;
  const double params = net.parameters(cfg, likelihood->params_per_feature());
  if (params > kMaxParams) {
    throw ConfigError(
        fmt::format("model too large (got {:.0f} parameters vs expected at most {:.0f}); use {}",
                    params, kMaxParams, net.size_hint()));
  }
  return cfg;
}

}  // namespace cvae::models
