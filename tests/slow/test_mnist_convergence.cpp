// Convergence on the real MNIST digits (scripts/fetch-data.sh mnist, which
// scripts/test.sh runs first): the default model reaches a sensible test -ELBO,
// and its samples for each label are recognised as that label by a simple
// judge built from real training digits only (the nearest training digit, 1-NN).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "cvae/api.h"
#include "data/dataset.h"
#include "models/model_file.h"
#include "serve/serve.h"
#include "support/tiny_data.h"

namespace fs = std::filesystem;

namespace cvae {
namespace {

TEST(MnistConvergence, DefaultModelLearnsAndGeneratesTheRequestedDigits) {
  const std::string data = std::string(CVAE_SOURCE_DIR) + "/data/mnist";
  ASSERT_TRUE(fs::exists(data + "/train-images-idx3-ubyte"))
      << "MNIST digits missing: run scripts/fetch-data.sh mnist (scripts/test.sh does)";
  testing::TempDir dir("mnist");
  TrainRequest r;
  r.data.path = data;
  r.out = dir.file("mnist.cvae");
  r.train.epochs = 30;  // the default, as scripts/demo.sh trains
  r.train.threads = 2;
  r.quiet = true;
  TrainResult tr = train(r);
  ASSERT_EQ(tr.epochs_done, r.train.epochs);
  // Validation -ELBO falls over training.
  EXPECT_LT(tr.epochs.back().val_loss, tr.epochs.front().val_loss - 30);

  EvalRequest e;
  e.model = r.out;
  e.data.path = data;
  e.iw_samples = 50;
  e.threads = 2;
  EvalResult er = evaluate(e);
  EXPECT_EQ(er.n, 2000);
  EXPECT_LT(er.neg_elbo, 115.0);
  EXPECT_LE(er.iw_nll, er.neg_elbo);
  EXPECT_GE(er.active_units, 4);

  // Judge: the nearest real training digit (1-NN), built from real data only.
  DataConfig dc;
  dc.path = data;
  auto train_set = data::load_dataset(dc, "train");
  auto test_set = data::load_dataset(dc, "test");
  auto train_flat = train_set.x.flatten(1);
  auto train_labels = train_set.y.select(1, 0);
  auto judge = [&](const torch::Tensor& x) {
    return train_labels.index_select(0, torch::cdist(x.flatten(1), train_flat).argmin(1));
  };
  const double real_acc =
      (judge(test_set.x) == test_set.y.select(1, 0)).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(real_acc, 0.9) << "the judge itself";

  models::ModelFile f;
  auto model = models::load_model(r.out, &f);
  auto rows = data::parse_labels(f.model.conditions, {"all"});
  auto wanted = torch::arange(10, torch::kInt64).repeat_interleave(100);
  auto accuracy_at = [&](double temperature) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
    auto samples = serve::sample(*model, rows, 100, temperature, gen, false);
    return (judge(samples) == wanted).to(torch::kFloat64).mean().item<double>();
  };
  const double acc_t1 = accuracy_at(1.0), acc_t05 = accuracy_at(0.5);
  std::cout << "1-NN judge: real test digits " << real_acc
            << ", samples at temperature 1: " << acc_t1 << ", at 0.5: " << acc_t05
            << "; test -ELBO " << er.neg_elbo << ", IWAE(50) " << er.iw_nll << "\n";
  // Chance is 0.1. The plain MLP CVAE is far from the judge's ceiling at
  // temperature 1 (issue 3 measures and improves this); these bounds catch a
  // model that ignores its condition.
  EXPECT_GE(acc_t1, 0.55);
  EXPECT_GE(acc_t05, 0.8);
  EXPECT_GE(acc_t05, acc_t1 - 0.02)
      << "samples nearer the prior's mode should be recognised more often";
}

}  // namespace
}  // namespace cvae
