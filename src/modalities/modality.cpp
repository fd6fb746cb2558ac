#include "modalities/modality.h"

#include <cmath>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "data/dataset.h"

namespace fs = std::filesystem;

namespace cvae::modalities {
namespace {

std::vector<std::shared_ptr<const Modality>>& raw_registry() {
  static std::vector<std::shared_ptr<const Modality>> r;
  return r;
}

// The built-in modalities are registered at the first lookup.
const std::vector<std::shared_ptr<const Modality>>& registry() {
  register_builtins();
  return raw_registry();
}

}  // namespace

void register_modality(std::shared_ptr<const Modality> m) {
  register_builtins();  // the built-in ones first (image, the fallback reader, stays first)
  // A name the model layer has throws, and nothing is added then.
  models::register_model_kind(m);
  raw_registry().push_back(std::move(m));
}

std::vector<std::string> modality_names() {
  std::vector<std::string> names;
  for (const auto& m : registry()) names.push_back(m->modality());
  return names;
}

const Modality& modality(const std::string& name) {
  for (const auto& m : registry()) {
    if (m->modality() == name) return *m;
  }
  throw ConfigError(fmt::format("unknown modality (got '{}' vs expected one of: auto, {})", name,
                                fmt::join(modality_names(), ", ")));
}

RecommendResult Modality::recommend(const RecommendRequest& req, models::CVAEImpl&,
                                    const models::ModelFile&) const {
  throw ConfigError(fmt::format(
      "model '{}' is a {} model: recommend is for item-set models (trained on ratings.csv and "
      "movies.csv)",
      req.model, modality()));
}

const Modality& modality_of(const ModelConfig& cfg) {
  return modality(models::model_kind_of(cfg).modality());
}

const Modality& modality_for_data(const DataConfig& cfg) {
  if (cfg.modality != "auto") return modality(cfg.modality);
  const auto& all = registry();
  // The latest registered first: a later modality claims something more
  // specific (item sets: a directory with ratings.csv and movies.csv) than an
  // earlier one (images: any directory).
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if ((*it)->claims(cfg)) return **it;
  }
  // Nothing claims it: the first registered modality (images) reads it, and its
  // error says what it expected.
  return *all.front();
}

data::Dataset load_dataset(const DataConfig& cfg, const std::string& split) {
  cfg.validate();
  if (split != "train" && split != "test") {
    throw ConfigError(
        fmt::format("unknown split (got '{}' vs expected train, val or test)", split));
  }
  std::error_code ec;
  if (!fs::exists(cfg.path, ec)) {
    std::vector<std::string> what;
    for (const auto& m : registry()) what.push_back(m->data_description());
    throw DataError(
        fmt::format("data path '{}' does not exist (expected {}; for MNIST run "
                    "scripts/fetch-data.sh mnist)",
                    cfg.path, fmt::join(what, ", or ")));
  }
  const Modality& m = modality_for_data(cfg);
  data::Dataset d = m.load(cfg, split);
  if (d.size() == 0) throw DataError(fmt::format("'{}' holds no examples", d.source));
  d.modality = m.modality();
  return d;
}

data::Dataset load_dataset_for(const DataConfig& cfg, const std::string& split,
                               const std::string& modality_name, const std::vector<int64_t>& shape,
                               const std::vector<std::string>& vocabulary) {
  const Modality& m = modality(models::model_kind_of(modality_name, shape, vocabulary).modality());
  DataConfig reading = m.reading_for(cfg, shape, vocabulary);
  reading.modality = m.modality();
  return load_dataset(reading, split);
}

std::string Modality::fidelity_report(const FidelityResult& f, const EvalRequest& req) const {
  std::string out = fmt::format(
      "samples: {} per label from the {} sampler at temperature {}, each the best of {}; "
      "judged by {}\n",
      req.samples_per_label, f.sampler, f.latent_temperature, f.candidates, req.judge);
  out += fidelity_table(f, "diversity");
  if (f.transfer_count > 0) {
    out += fmt::format("  transfer accuracy     {:10.4f} ({} transfers)\n", f.transfer_accuracy,
                       f.transfer_count);
  }
  return out;
}

std::string fidelity_table(const FidelityResult& f, const std::string& diversity) {
  // A measure may leave a per-label figure out: NaN then.
  auto at = [](const std::vector<double>& v, size_t k) {
    return k < v.size() ? v[k] : std::nan("");
  };
  std::string out =
      fmt::format("  {:<12} {:>10} {:>10} {:>10}\n", "label", "cond acc", "real acc", diversity);
  for (size_t k = 0; k < f.labels.size(); ++k) {
    out += fmt::format("  {:<12} {:>10.4f} {:>10.4f} {:>10.3f}\n", f.labels[k],
                       at(f.cond_accuracy_per_label, k), at(f.judge_real_accuracy_per_label, k),
                       at(f.diversity_ratio_per_label, k));
  }
  out += fmt::format("  {:<12} {:>10.4f} {:>10.4f} {:>10.3f}\n", "all", f.cond_accuracy,
                     f.judge_real_accuracy, f.diversity_ratio);
  return out;
}

torch::Tensor one_label(const std::vector<ConditionSpec>& conds, const std::string& name,
                        const char* option) {
  auto row = data::parse_labels(conds, {name});
  if (row.size(0) != 1)
    throw ConfigError(fmt::format("{} must name one label (got '{}')", option, name));
  return row;
}

std::pair<torch::Tensor, torch::Tensor> indexed_examples(const TransferRequest& req,
                                                         const ModelConfig& cfg) {
  if (req.split != "test" && req.split != "train") {
    throw ConfigError(
        fmt::format("unknown --split (got '{}' vs expected test or train)", req.split));
  }
  data::Dataset d =
      load_dataset_for(req.data, req.split, cfg.modality, cfg.input_shape, cfg.vocabulary);
  data::check_compatible(d, cfg.input_shape, cfg.conditions);
  if (req.indices.empty())
    throw ConfigError("no --index given (expected at least one example index)");
  for (auto i : req.indices) {
    if (i < 0 || i >= d.size()) {
      throw ConfigError(fmt::format("--index out of range (got {} vs expected 0..{} for '{}')", i,
                                    d.size() - 1, d.source));
    }
  }
  auto idx = torch::tensor(req.indices, torch::kInt64);
  return {d.x.index_select(0, idx), d.y.index_select(0, idx)};
}

}  // namespace cvae::modalities
