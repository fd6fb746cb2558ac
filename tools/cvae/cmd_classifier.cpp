#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {
namespace {

void print_report(const ClassifierReport& r, const std::string& what) {
  fmt::print("{}: accuracy {:.4f} on {} examples\n", what, r.accuracy, r.n);
  for (size_t k = 0; k < r.labels.size() && k < r.accuracy_per_label.size(); ++k) {
    fmt::print("  {:<12} {:>8.4f}  ({} examples)\n", r.labels[k], r.accuracy_per_label[k],
               r.count_per_label[k]);
  }
}

}  // namespace

void add_classifier(CLI::App& app) {
  auto* cls = app.add_subcommand(
      "classifier", "Train or evaluate a judge: a classifier of real data used by eval --judge");
  cls->require_subcommand(1);

  auto* tr = cls->add_subcommand("train", "Train a small conv classifier on labelled data");
  struct TrainState {
    ClassifierTrainRequest req;
    DataOptions data;
    std::string progress = "auto";
  };
  auto t = std::make_shared<TrainState>();
  t->data.add(*tr, true);
  tr->add_option("--out", t->req.out, "Classifier file to write (atomically)")->required();
  tr->add_option("--epochs", t->req.epochs, "Epochs (0 = 15 for images, 60 for text)")
      ->capture_default_str();
  tr->add_option("--labelled", t->req.labelled,
                 "Train on this many examples only (stratified; 0 = all): the supervised "
                 "baseline of semi-supervised training")
      ->capture_default_str();
  tr->add_option("--batch-size", t->req.batch_size, "Examples per step")->capture_default_str();
  tr->add_option("--lr", t->req.lr, "Adam learning rate")->capture_default_str();
  tr->add_option("--seed", t->req.seed, "Random seed")->capture_default_str();
  tr->add_option("--threads", t->req.threads, "Threads (0 = all cores)")->capture_default_str();
  tr->add_option("--progress", t->progress, "auto (bar on a terminal), bar, plain or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}));
  tr->callback([t] {
    auto& r = t->req;
    r.data = t->data.resolve();
    r.progress = t->progress == "auto" ? -1 : t->progress == "bar" ? 1 : 0;
    r.quiet = t->progress == "none";
    ClassifierTrainResult res = train_classifier(r);
    if (res.test.n > 0) {
      print_report(res.test, "test split");
    } else {
      fmt::print("no test split (no test file beside the data): no held-out accuracy\n");
    }
    fmt::print("train accuracy {:.4f}; {:.1f} s\n", res.train_accuracy, res.seconds);
    fmt::print("wrote {}\n", res.path);
  });

  auto* ev = cls->add_subcommand("eval", "Accuracy of a classifier on a data split");
  struct EvalState {
    ClassifierEvalRequest req;
    DataOptions data;
  };
  auto e = std::make_shared<EvalState>();
  ev->add_option("--model", e->req.classifier, "Classifier file")->required();
  e->data.add(*ev, true);
  ev->add_option("--split", e->req.split, "test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  ev->add_option("--threads", e->req.threads, "Threads (0 = all cores)")->capture_default_str();
  ev->callback([e] {
    e->req.data = e->data.resolve();
    print_report(evaluate_classifier(e->req), e->req.split + " split");
  });
}

}  // namespace cvae::cli
