#include "modalities/items/items.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "modalities/items/items_data.h"
#include "modalities/items/lite/catalogue.h"
#include "modalities/items/lite/movielens.h"
#include "modalities/items/lite/protocol.h"
#include "modalities/items/lite/ranking.h"
#include "modalities/items/lite/recommend_output.h"
#include "modalities/items/multvae.h"
#include "modalities/items/ranking_eval.h"
#include "modalities/modality.h"
#include "models/sampling.h"

namespace cvae::modalities::items {
namespace {

bool given(const std::vector<std::string>& options, const char* name) {
  return std::find(options.begin(), options.end(), name) != options.end();
}

// The training users and split the model was trained on (training_fingerprint).
struct Provenance {
  uint64_t split_seed = 0;
  int64_t heldout_users = 0;
  std::vector<int64_t> users;
};

std::string provenance_bytes(const Provenance& p) {
  nlohmann::json j;
  j["split_seed"] = p.split_seed;
  j["heldout_users"] = p.heldout_users;
  j["users"] = p.users;
  return j.dump();
}

Provenance parse_provenance(const std::string& bytes, const std::string& model) {
  try {
    auto j = nlohmann::json::parse(bytes);
    return {j.at("split_seed").get<uint64_t>(), j.at("heldout_users").get<int64_t>(),
            j.at("users").get<std::vector<int64_t>>()};
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format(
        "model file '{}' has no readable record of its training users ({}; expected the JSON "
        "cvae train writes for item-set models)",
        model, e.what()));
  }
}

// The label row index of --label ("" = any).
int64_t label_index(const ModelConfig& cfg, const std::string& label) {
  if (label.empty()) return 0;
  return one_label(cfg.conditions, label, "--label")[0][0].item<int64_t>();
}

// Top `k` items per row of scores (U, I) never in `exclude`, as rows of the result.
void add_top(RecommendResult& res, const torch::Tensor& scores, int64_t k,
             const std::vector<int64_t>& users, const std::vector<std::vector<int64_t>>& exclude,
             const Catalogue& cat) {
  const auto probs = torch::softmax(scores, 1).contiguous();  // -inf (ruled out) -> 0
  const auto p = probs.accessor<float, 2>();
  for (size_t u = 0; u < users.size(); ++u) {
    const auto s = row_scores(scores, static_cast<int64_t>(u));
    int64_t rank = 0;
    for (auto col : top_k(s, k, exclude[u])) {
      if (!std::isfinite(s[static_cast<size_t>(col)])) break;  // the label rules the rest out
      res.rows.push_back({users[u], ++rank, cat.ids[static_cast<size_t>(col)],
                          p[static_cast<int64_t>(u)][col], cat.titles[static_cast<size_t>(col)]});
    }
  }
}

class ItemsModality final : public Modality {
 public:
  // ---- the model layer's ModelKind ----
  std::string modality() const override { return kName; }
  bool owns_unnamed(const std::vector<int64_t>&, const std::vector<std::string>&) const override {
    return false;  // item-set models always name their modality
  }
  std::string default_arch(const ModelConfig&) const override { return "multvae"; }
  std::string default_likelihood(const ModelConfig&) const override { return "multinomial"; }
  std::vector<std::string> archs() const override { return {"multvae"}; }
  std::vector<std::string> likelihoods() const override { return {"multinomial"}; }
  models::ClassifierFeatures classifier_features(torch::nn::Module&,
                                                 const models::ClassifierConfig&) const override {
    throw ConfigError(
        "a classifier (judge) of item sets is not built in: eval reports ranking metrics for "
        "item-set models instead");
  }

  // ---- data ----
  bool claims(const DataConfig& cfg) const override { return is_item_folder(cfg); }
  std::string data_description() const override {
    return "a folder with ratings.csv and movies.csv (MovieLens's layout)";
  }
  data::Dataset load(const DataConfig& cfg, const std::string& split) const override {
    return item_rows(read_items(cfg, cfg.vocabulary), split, cfg.genre_rows);
  }
  DataConfig reading_for(DataConfig cfg, const std::vector<int64_t>&,
                         const std::vector<std::string>& vocabulary) const override {
    cfg.vocabulary = vocabulary;  // the model's catalogue
    return cfg;
  }
  void configure(ModelConfig& cfg, const data::Dataset& train) const override {
    cfg.vocabulary = train.vocabulary;
  }
  // The split's options and the training users, so that eval ranks for the
  // same held-out users and can tell when the data differ.
  std::string training_fingerprint(const data::Dataset& train,
                                   const DataConfig& data) const override {
    Provenance p;
    auto ids = std::get<0>(torch::_unique(train.ids, /*sorted=*/true));
    p.users.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
    p.split_seed = data.split_seed;
    p.heldout_users = data.heldout_users;
    return provenance_bytes(p);
  }

  void train_defaults(ModelConfig& m, TrainConfig& t,
                      const std::vector<std::string>& options) const override {
    if (!given(options, "hidden")) m.hidden = {600};
    if (!given(options, "latent")) m.latent = 200;
    if (!given(options, "prior")) m.prior = "standard";
    if (!given(options, "epochs")) t.epochs = kEpochs;
    if (!given(options, "batch-size")) t.batch_size = 128;
    if (!given(options, "lr")) t.lr = 3e-3;
    if (!given(options, "beta")) t.beta = 0.2;
    if (!given(options, "kl-warmup")) t.kl_warmup = static_cast<double>(t.epochs) / 2.0;
    if (!given(options, "gmm-components")) t.gmm_components = 0;
  }

  Defaults defaults() const override {
    Defaults d;
    d.iw_samples = 0;  // the ranking metrics are eval's figures; --iw-samples K adds the bound
    d.sampling = core::SamplingDefaults{true, 1.0, 1};
    d.formats = {"tsv"};
    return d;
  }

  // ---- writers ----
  // Item sets of imagined users: z from the prior for each label, their top
  // items (20) as recommend writes them, with the sample's number as userId.
  GenerateResult generate(const GenerateContext& ctx) const override {
    const Catalogue cat = parse_catalogue(ctx.info.model.vocabulary, ctx.request.model);
    auto z = models::sample_latent(ctx.model, ctx.rows, ctx.request.n,
                                   ctx.sampling.latent_temperature, ctx.gen, ctx.mixture);
    auto rows_n = ctx.rows.repeat_interleave(ctx.request.n, 0);
    torch::NoGradGuard no_grad;
    auto scores = ctx.model.decode(z, data::encode_conditions(ctx.info.model.conditions, rows_n),
                                   torch::Tensor());
    RecommendResult rec;
    std::vector<int64_t> users;
    for (int64_t i = 0; i < z.size(0); ++i) users.push_back(i + 1);
    add_top(rec, scores, 20, users, std::vector<std::vector<int64_t>>(users.size()), cat);
    GenerateResult res;
    res.count = z.size(0);
    const std::string out = ctx.request.out.empty() ? "samples.tsv" : ctx.request.out;
    core::create_parent_dirs(out);
    core::write_file_atomic(out, recommendations_tsv(rec.rows));
    res.files = {out};
    return res;
  }
  TransferResult transfer(const TransferRequest&, models::CVAEImpl&,
                          const models::ModelFile&) const override {
    throw ConfigError(
        "transfer is not defined for item sets (use recommend --label genre=G for a user's "
        "items of another genre)");
  }
  InterpolateResult interpolate(const InterpolateRequest&, models::CVAEImpl&,
                                const models::ModelFile&) const override {
    throw ConfigError("interpolate is not defined for item sets");
  }

  // ---- evaluation ----
  void add_metrics(const MetricsContext& ctx) const override;

  void check_judge(const ModelConfig&, const models::ClassifierConfig&,
                   const std::string&) const override {
    throw ConfigError(
        "eval --judge does not apply to item sets: eval reports ranking metrics (Recall@20/50, "
        "NDCG@100, genre precision@20) on the held-out users instead");
  }
  FidelityResult measure_fidelity(const FidelityContext&) const override {
    throw ConfigError("eval --judge does not apply to item sets");
  }

  RecommendResult recommend(const RecommendRequest& req, models::CVAEImpl& model,
                            const models::ModelFile& info) const override;

  // ---- info ----
  void describe_json(nlohmann::json& model) const override {
    const auto size = model.at("vocabulary").size();
    model.erase("vocabulary");
    model["catalogue_size"] = size;
  }

 private:
  static constexpr int64_t kEpochs = 100;
};

void ItemsModality::add_metrics(const MetricsContext& ctx) const {
  const ModelConfig& cfg = ctx.info.model;
  const Provenance p = parse_provenance(ctx.info.train_sequences, ctx.request.model);
  const DataConfig& dcfg = ctx.request.data;
  if (dcfg.split_seed != p.split_seed || dcfg.heldout_users != p.heldout_users) {
    throw ConfigError(fmt::format(
        "model '{}' was trained on the split of --split-seed {} --heldout-users {} (got "
        "--split-seed {} --heldout-users {}; pass the model's to rank its held-out users)",
        ctx.request.model, p.split_seed, p.heldout_users, dcfg.split_seed, dcfg.heldout_users));
  }
  const ItemData d = read_items(dcfg, cfg.vocabulary);
  // The data must be split as it was for training: the same training users.
  std::vector<int64_t> train_users;
  for (const auto& u : d.split.train) train_users.push_back(u.user);
  std::sort(train_users.begin(), train_users.end());
  if (train_users != p.users) {
    throw DataError(fmt::format(
        "'{}' does not split into the {} training users model '{}' was trained on (got {}; "
        "expected the same ratings.csv)",
        d.source, p.users.size(), ctx.request.model, train_users.size()));
  }
  const auto& users = ctx.request.split == "train" ? d.split.validation : d.split.test;
  const auto& labels = cfg.conditions.at(0).labels;
  auto add = [&](const RankingFigures& f, const std::string& prefix,
                 Figures which = Figures::kAll) {
    for (auto& kv : figures(f, prefix, which)) ctx.result.figures.push_back(kv);
  };
  auto vae = model_scorer(ctx.model);
  add(rank_held_out(users, d.catalogue, labels, vae, Genre::kAsk), "", Figures::kAllAndCounts);
  // The model's own unconditional scores kept to the genre: what asking for it adds.
  add(rank_held_out(users, d.catalogue, labels, vae, Genre::kKeep), "any_in_genre.",
      Figures::kGenre);
  if (!ctx.request.baselines) return;
  auto pop = fixed_scorer(torch::tensor(popularity(d.split.train, d.catalogue.size())));
  add(rank_held_out(users, d.catalogue, labels, pop, Genre::kKeep), "popularity.");
  // EASE's lambda: the best of a grid on the validation users (NDCG@100).
  std::vector<std::vector<int64_t>> train_items;
  for (const auto& u : d.split.train) train_items.push_back(u.fold_in);
  const auto gram = ease_gram(multi_hot(train_items, d.catalogue.size()));
  double best = -1, best_lambda = 0;
  torch::Tensor best_w;
  for (double lambda : {50.0, 100.0, 200.0, 500.0, 1000.0}) {
    auto w = ease_weights(gram, lambda);
    const double v =
        rank_held_out(d.split.validation, d.catalogue, labels, matrix_scorer(w), Genre::kSkip)
            .ndcg100;
    if (v > best) best = v, best_lambda = lambda, best_w = w;
  }
  add(rank_held_out(users, d.catalogue, labels, matrix_scorer(best_w), Genre::kKeep), "ease.");
  ctx.result.figures.push_back({"ease.lambda", best_lambda});
}

RecommendResult ItemsModality::recommend(const RecommendRequest& req, models::CVAEImpl& model,
                                         const models::ModelFile& info) const {
  const ModelConfig& cfg = info.model;
  const Catalogue cat = parse_catalogue(cfg.vocabulary, req.model);
  const int64_t label = label_index(cfg, req.label);
  const auto history = read_history(req.history);
  // Users as read_history sorts them (by id); items as catalogue columns. The
  // model reads a user's positives (rated >= kPositiveRating, or every row
  // without a rating), as it was trained; no item of the history is recommended.
  std::vector<int64_t> users;
  std::vector<std::vector<int64_t>> liked, seen;
  RecommendResult res;
  for (const auto& h : history) {
    if (users.empty() || users.back() != h.user)
      users.push_back(h.user), liked.emplace_back(), seen.emplace_back();
    ++res.history_items;
    const int64_t col = cat.column_of(h.item);
    if (col < 0) {
      ++res.unknown_items;
      continue;
    }
    seen.back().push_back(col);
    if (std::isnan(h.rating) || h.rating >= kPositiveRating) liked.back().push_back(col);
  }
  res.users = static_cast<int64_t>(users.size());
  if (users.empty()) return res;
  auto x = multi_hot(liked, cat.size());
  auto scores = model_scorer(model)(x, torch::full({x.size(0)}, label, torch::kInt64));
  add_top(res, scores, req.top, users, seen, cat);
  res.tsv = recommendations_tsv(res.rows);
  if (!req.out.empty()) {
    core::create_parent_dirs(req.out);
    core::write_file_atomic(req.out, res.tsv);
    res.files = {req.out};
  }
  return res;
}

}  // namespace

void register_items() {
  models::register_backbone(multvae_backbone());
  register_modality(std::make_shared<ItemsModality>());
}

}  // namespace cvae::modalities::items
