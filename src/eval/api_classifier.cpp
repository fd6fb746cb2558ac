// cvae::train_classifier and cvae::evaluate_classifier (include/cvae/api.h).
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/atomic_file.h"
#include "core/runtime.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "data/torch_threads.h"
#include "eval/classifier.h"
#include "modalities/modality.h"
#include "models/judging.h"
#include "models/model_file.h"

namespace cvae {
namespace {

void check_single_condition(const data::Dataset& d) {
  if (d.conditions.size() != 1) {
    throw ConfigError(fmt::format("a classifier predicts one condition (got {} in '{}')",
                                  d.conditions.size(), d.source));
  }
}

}  // namespace

ClassifierTrainResult train_classifier(const ClassifierTrainRequest& req) {
  modalities::register_builtins();
  if (req.out.empty()) throw ConfigError("no output path given (expected --out FILE)");
  if (req.epochs < 0 || req.epochs > 10000)
    throw ConfigError(fmt::format(
        "--epochs out of range (got {} vs expected 1..10000, or 0 = auto)", req.epochs));
  if (req.batch_size < 1 || req.batch_size > 65536) {
    throw ConfigError(
        fmt::format("--batch-size out of range (got {} vs expected 1..65536)", req.batch_size));
  }
  if (!(req.lr > 0 && req.lr <= 10))
    throw ConfigError(fmt::format("--lr out of range (got {} vs expected > 0 and <= 10)", req.lr));
  const auto t0 = std::chrono::steady_clock::now();
  data::set_threads(req.threads);
  data::Dataset train = modalities::load_dataset(req.data, "train");
  check_single_condition(train);
  const modalities::Modality& m = modalities::modality(train.modality);
  const int64_t epochs = req.epochs > 0 ? req.epochs : m.defaults().judge_epochs;
  if (req.labelled > 0)
    train = train.subset(data::stratified_subset(train, req.labelled, req.seed));
  data::Dataset test = modalities::load_dataset_for(req.data, "test", train.modality,
                                                    train.example_shape(), train.vocabulary);
  data::check_compatible(test, train.example_shape(), train.conditions);
  core::create_parent_dirs(req.out);

  eval::ClassifierConfig cfg;
  cfg.modality = train.modality;
  cfg.input_shape = train.example_shape();
  cfg.condition = train.conditions[0];
  cfg.vocabulary = train.vocabulary;
  torch::manual_seed(req.seed);
  eval::Classifier model(cfg);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(req.lr));
  std::mt19937_64 rng(req.seed);
  const int64_t n = train.size();
  const int64_t bs = std::min(req.batch_size, n);
  const int64_t steps = (n + bs - 1) / bs;
  const bool bar = req.progress < 0 ? core::stderr_is_terminal() : req.progress == 1;
  auto labels = train.y.select(1, 0);
  if (!req.quiet) {
    fmt::print(stderr, "training a classifier on {} examples of shape {}, {} labels\n", n,
               fmt::join(cfg.input_shape, "x"), cfg.condition.labels.size());
  }
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    std::vector<int64_t> perm(static_cast<size_t>(n));
    std::iota(perm.begin(), perm.end(), int64_t{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    auto perm_t = torch::tensor(perm, torch::kInt64);
    core::Progress progress(fmt::format("classifier epoch {}/{}", epoch, epochs), steps, bar,
                            req.quiet);
    model->train();
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t b = 0; b < steps; ++b) {
      auto idx = perm_t.slice(0, b * bs, std::min((b + 1) * bs, n));
      auto x = train.x.index_select(0, idx);
      auto y = labels.index_select(0, idx);
      auto logits = model->forward(x);
      auto loss = torch::nn::functional::cross_entropy(logits, y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
      correct += (logits.argmax(1) == y).sum().item<int64_t>();
      if (progress.visible()) {
        progress.update(
            b + 1,
            fmt::format("loss {:.4f}", loss_sum / static_cast<double>(std::min((b + 1) * bs, n))));
      }
    }
    progress.finish();
    if (!std::isfinite(loss_sum))
      throw NumericError(fmt::format("classifier: non-finite loss in epoch {}", epoch));
    if (!req.quiet) {
      fmt::print(stderr, "classifier epoch {}/{}  loss {:.4f}  train accuracy {:.4f}  {:.1f}s\n",
                 epoch, epochs, loss_sum / static_cast<double>(n),
                 static_cast<double>(correct) / static_cast<double>(n), progress.elapsed_seconds());
    }
  }
  model->eval();
  ClassifierTrainResult res;
  // A text file without a test file beside it is its own "test" split: no held-out
  // accuracy then (n = 0), rather than the training accuracy under another name.
  if (test.source != train.source) {
    res.test = models::classifier_report(*model, test.x, test.y.select(1, 0), cfg.condition.labels);
  }
  auto train_pred = eval::predict(*model, train.x);
  res.train_accuracy = (train_pred == labels).to(torch::kFloat64).mean().item<double>();
  eval::ClassifierFile f;
  f.config = cfg;
  f.weights = models::module_to_bytes(*model);
  f.test_accuracy = res.test.n > 0 ? res.test.accuracy : -1;
  f.data_source = train.source;
  eval::save_classifier(req.out, f);
  res.path = req.out;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

ClassifierReport evaluate_classifier(const ClassifierEvalRequest& req) {
  modalities::register_builtins();
  if (req.split != "test" && req.split != "train") {
    throw ConfigError(
        fmt::format("unknown --split (got '{}' vs expected test or train)", req.split));
  }
  data::set_threads(req.threads);
  eval::ClassifierFile info;
  auto model = eval::load_classifier(req.classifier, &info);
  const auto& jc = info.config;
  data::Dataset d =
      modalities::load_dataset_for(req.data, req.split, jc.modality, jc.input_shape, jc.vocabulary);
  data::check_compatible(d, info.config.input_shape, {info.config.condition});
  return models::classifier_report(*model, d.x, d.y.select(1, 0), info.config.condition.labels);
}

}  // namespace cvae
