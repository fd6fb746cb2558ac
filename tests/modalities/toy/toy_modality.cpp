#include "toy_modality.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "modalities/modality.h"
#include "models/judging.h"
#include "models/sampling.h"

namespace fs = std::filesystem;

namespace cvae::testing {
namespace {

using modalities::FidelityContext;
using modalities::GenerateContext;

// Writes one "label,v1,...,vD" line per row of x (N, D).
std::string write_vectors(const std::string& path, const std::vector<std::string>& labels,
                          const torch::Tensor& x) {
  auto v = x.to(torch::kFloat64).flatten(1).contiguous();
  std::string body;
  for (int64_t i = 0; i < v.size(0); ++i) {
    body += labels.at(static_cast<size_t>(i));
    for (int64_t j = 0; j < v.size(1); ++j) body += fmt::format(",{:.6f}", v[i][j].item<double>());
    body += "\n";
  }
  core::create_parent_dirs(path);
  core::write_file_atomic(path, body);
  return path;
}

class ToyModality final : public modalities::Modality {
 public:
  std::string modality() const override { return "toy"; }
  bool owns_unnamed(const std::vector<int64_t>&, const std::vector<std::string>&) const override {
    return false;  // toy files always name their modality
  }
  std::string default_arch(const ModelConfig&) const override { return "mlp"; }
  std::string default_likelihood(const ModelConfig&) const override { return "gaussian"; }
  std::vector<std::string> archs() const override { return {"mlp"}; }
  std::vector<std::string> likelihoods() const override { return {"gaussian", "bernoulli"}; }
  models::ClassifierFeatures classifier_features(
      torch::nn::Module&, const models::ClassifierConfig& cfg) const override {
    int64_t d = 1;
    for (auto s : cfg.input_shape) d *= s;
    return {[](const torch::Tensor& x) { return x.flatten(1); }, d};
  }

  bool claims(const DataConfig& cfg) const override {
    std::error_code ec;
    return fs::is_regular_file(cfg.path, ec) && fs::path(cfg.path).extension() == ".vec";
  }
  std::string data_description() const override { return "a .vec file of vectors"; }
  data::Dataset load(const DataConfig& cfg, const std::string& /*split*/) const override {
    std::ifstream in(cfg.path);
    if (!in) throw DataError(fmt::format("cannot open '{}'", cfg.path));
    std::vector<std::string> labels;
    std::vector<std::vector<double>> rows;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::stringstream ss(line);
      std::string cell;
      std::getline(ss, cell, ',');
      labels.push_back(cell);
      rows.emplace_back();
      while (std::getline(ss, cell, ',')) rows.back().push_back(std::stod(cell));
      if (rows.back().size() != rows.front().size())
        throw DataError(fmt::format("'{}': rows of different lengths", cfg.path));
    }
    std::vector<std::string> names = labels;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    const auto n = static_cast<int64_t>(rows.size());
    const auto dim = n ? static_cast<int64_t>(rows.front().size()) : 0;
    data::Dataset d;
    d.source = cfg.path;
    d.conditions = {ConditionSpec{"label", "categorical", names}};
    d.x = torch::empty({n, dim}, torch::kFloat32);
    d.y = torch::empty({n, 1}, torch::kInt64);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < dim; ++j)
        d.x[i][j] = rows[static_cast<size_t>(i)][static_cast<size_t>(j)];
      d.y[i][0] = std::lower_bound(names.begin(), names.end(), labels[static_cast<size_t>(i)]) -
                  names.begin();
    }
    return d;
  }
  DataConfig reading_for(DataConfig cfg, const std::vector<int64_t>&,
                         const std::vector<std::string>&) const override {
    return cfg;
  }

  Defaults defaults() const override {
    Defaults d;
    d.iw_samples = 50;
    d.judge_epochs = 30;
    d.sampling = core::SamplingDefaults{true, 1.0, 1};
    d.formats = {"csv"};
    return d;
  }

  GenerateResult generate(const GenerateContext& ctx) const override {
    const auto& conds = ctx.info.model.conditions;
    auto z = models::sample_latent(ctx.model, ctx.rows, ctx.request.n,
                                   ctx.sampling.latent_temperature, ctx.gen, ctx.mixture);
    auto rows_n = ctx.rows.repeat_interleave(ctx.request.n, 0);
    auto x = models::decode_mean(ctx.model, z, data::encode_conditions(conds, rows_n));
    GenerateResult res;
    res.count = x.size(0);
    const std::string out = ctx.request.out.empty() ? "samples.csv" : ctx.request.out;
    res.files = {write_vectors(out, data::label_names(conds, rows_n), x)};
    return res;
  }

  TransferResult transfer(const TransferRequest& req, models::CVAEImpl& model,
                          const models::ModelFile& info) const override {
    const auto& conds = info.model.conditions;
    auto [x, y] = modalities::indexed_examples(req, info.model);
    auto targets = data::parse_labels(conds, req.to_labels);
    auto [z, c] =
        models::transfer_latent(model, x, y, targets, models::choose_sampler(req.sampler, info));
    TransferResult res;
    res.source_labels = data::label_names(conds, y);
    res.target_labels = data::label_names(conds, targets);
    const std::string out = req.out.empty() ? "transfer.csv" : req.out;
    res.files = {write_vectors(out, data::label_names(conds, targets.repeat({x.size(0), 1})),
                               models::decode_mean(model, z, c))};
    return res;
  }

  InterpolateResult interpolate(const InterpolateRequest& req, models::CVAEImpl& model,
                                const models::ModelFile& info) const override {
    const auto& conds = info.model.conditions;
    auto from = modalities::one_label(conds, req.label, "--label");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(req.seed);
    auto mixture = models::choose_sampler(req.sampler, info);
    auto z0 = models::sample_latent(model, from, 1, req.temperature, gen, mixture);
    auto z1 = models::sample_latent(model, from, 1, req.temperature, gen, mixture);
    auto alpha = torch::linspace(0.0, 1.0, req.steps).view({req.steps, 1});
    auto z = (1 - alpha) * z0 + alpha * z1;  // (S, Z)
    auto c = data::encode_conditions(conds, from).expand({req.steps, -1});
    std::vector<std::string> names(static_cast<size_t>(req.steps), req.label);
    const std::string out = req.out.empty() ? "interp.csv" : req.out;
    return {{write_vectors(out, names, models::decode_mean(model, z, c))}, {}};
  }

  FidelityResult measure_fidelity(const FidelityContext& ctx) const override {
    torch::NoGradGuard no_grad;
    const auto& labels = ctx.info.model.conditions.at(0).labels;
    auto map = models::judge_label_map(labels, ctx.judge_config.condition.labels);
    FidelityResult r;
    r.labels = labels;
    r.sampler = ctx.mixture.defined() ? "gmm" : "prior";
    const int64_t n = ctx.request.samples_per_label, l = static_cast<int64_t>(labels.size());
    double hits = 0;
    for (int64_t k = 0; k < l; ++k) {
      auto row = torch::full({1, 1}, k, torch::kInt64);
      auto z = models::sample_latent(ctx.model, row, n, ctx.sampling.latent_temperature, ctx.gen,
                                     ctx.mixture);
      auto c = data::encode_conditions(ctx.info.model.conditions, row.expand({n, 1}));
      auto x = models::decode_mean(ctx.model, z, c);
      const double acc =
          (models::predict(ctx.judge, x) == map[k]).to(torch::kFloat64).mean().item<double>();
      r.cond_accuracy_per_label.push_back(acc);
      hits += acc;
      r.sample_distance_per_label.push_back(models::mean_pairwise_distance(x));
    }
    r.samples = n * l;
    r.cond_accuracy = hits / static_cast<double>(l);
    models::measure_transfer(
        ctx.judge, map, ctx.real, ctx.request.transfer_examples,
        [&](const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& targets) {
          auto [z, c] = models::transfer_latent(ctx.model, x, y, targets, ctx.mixture);
          return models::decode_mean(ctx.model, z, c);
        },
        r);
    return r;
  }
};

}  // namespace

void register_toy_modality() {
  static std::once_flag once;
  std::call_once(once, [] { modalities::register_modality(std::make_shared<ToyModality>()); });
}

}  // namespace cvae::testing
