// Semi-supervised training (Kingma et al. 2014, M2): the objective against its
// definition computed term by term, the stratified choice of labelled
// examples, and training on toy data where only 2 examples per label keep
// their labels.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

ModelConfig ssl_config() {
  ModelConfig cfg;
  cfg.arch = "mlp";
  cfg.prior = "learned";
  cfg.input_shape = {1, 4, 4};
  cfg.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  cfg.hidden = {8};
  cfg.latent = 2;
  cfg.classifier = true;
  return cfg;
}

TEST(M2Loss, MatchesItsDefinitionTermByTerm) {
  torch::manual_seed(4);
  models::CVAE model(ssl_config());
  model->eval();  // no dropout in q(y|x), so both computations see the same q
  auto x_l = torch::rand({2, 1, 4, 4}), x_u = torch::rand({3, 1, 4, 4});
  auto y_l = torch::tensor({2, 0}, torch::kInt64);
  const double beta = 0.7, alpha = 1.3;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
  auto terms = models::m2_loss(*model, x_l, y_l, x_u, gen, beta, alpha);

  // The same noise, drawn in the same order: labelled batch, then U x L rows.
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(8);
  auto eps_l = torch::randn({2, 2}, g2);
  auto eps_u = torch::randn({3 * 3, 2}, g2);
  const auto& conds = model->config().conditions;
  torch::NoGradGuard ng;
  auto labelled = models::elbo_loss(*model, x_l, data::encode_conditions(conds, y_l.view({-1, 1})),
                                    eps_l, beta);
  double expected = labelled.loss.item<double>();
  auto log_q_l = torch::log_softmax(model->classify(x_l), 1);
  expected += alpha * -(log_q_l[0][2] + log_q_l[1][0]).item<double>() / 2;
  double unl = 0;
  auto log_q = torch::log_softmax(model->classify(x_u), 1);
  for (int64_t u = 0; u < 3; ++u) {
    for (int64_t y = 0; y < 3; ++y) {
      auto c = data::encode_conditions(conds, torch::tensor({{y}}));
      auto t =
          models::elbo_loss(*model, x_u[u].unsqueeze(0), c, eps_u[u * 3 + y].unsqueeze(0), beta);
      const double q = std::exp(log_q[u][y].item<double>());
      unl += q * (t.loss_recon.item<double>() + beta * t.loss_kl.item<double>()) +
             q * log_q[u][y].item<double>();
    }
  }
  expected += unl / 3;
  EXPECT_NEAR(terms.loss.item<double>(), expected, 1e-3 * std::abs(expected));
  EXPECT_EQ(terms.loss_recon.size(0), 5);  // 2 labelled + 3 unlabelled
}

TEST(M2Loss, UnlabelledTermTrainsTheClassifier) {
  torch::manual_seed(5);
  models::CVAE model(ssl_config());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto empty = torch::empty({0, 1, 4, 4});
  models::m2_loss(*model, empty, torch::empty({0}, torch::kInt64), torch::rand({4, 1, 4, 4}), gen,
                  1.0, 0.1)
      .loss.backward();
  double norm = 0;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("classifier.", 0) == 0 && p.value().grad().defined())
      norm += p.value().grad().pow(2).sum().item<double>();
  }
  EXPECT_GT(norm, 0.0) << "q(y|x) gets gradient from unlabelled examples alone";
}

TEST(StratifiedSubset, EvenPerLabelSortedAndSeeded) {
  data::Dataset d;
  d.x = torch::zeros({30, 1});
  d.y = (torch::arange(30, torch::kInt64) % 3).view({-1, 1});
  d.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  auto idx = data::stratified_subset(d, 7, 1);
  ASSERT_EQ(idx.size(0), 7);
  auto counts = torch::bincount(d.y.select(1, 0).index_select(0, idx));
  EXPECT_EQ(counts.max().item<int64_t>() - counts.min().item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(idx, std::get<0>(idx.sort())));
  EXPECT_TRUE(torch::equal(idx, data::stratified_subset(d, 7, 1)));
  EXPECT_FALSE(torch::equal(idx, data::stratified_subset(d, 7, 2)));
  EXPECT_THROW(data::stratified_subset(d, 0, 1), ConfigError);
  EXPECT_THROW(data::stratified_subset(d, 31, 1), ConfigError);
}

TEST(SemiSupervised, TwoLabelsPerClassSufficeOnSeparableToyData) {
  testing::TempDir dir("cvae-ssl");
  testing::write_toy_idx(dir.file("toy"), 300, 90, 8, 3, 3);
  TrainRequest r = testing::toy_train_request(dir.file("toy"), dir.file("ssl.cvae"), 6);
  r.model.prior = "learned";
  r.train.batch_size = 16;
  r.train.lr = 0.01;
  r.train.gmm_components = 3;
  r.train.labelled = 6;
  TrainResult tr = train(r);
  ASSERT_EQ(tr.epochs_done, 6);
  EXPECT_TRUE(std::isfinite(tr.epochs.back().val_accuracy));
  EvalRequest e;
  e.model = r.out;
  e.data.path = r.data.path;
  e.iw_samples = 0;
  e.threads = 1;
  EvalResult er = evaluate(e);
  EXPECT_GE(er.classifier_accuracy, 0.9) << "q(y|x) on the 90 test examples";
  // Too many labelled examples is a clear error.
  r.train.labelled = 100000;
  r.out = dir.file("bad.cvae");
  EXPECT_THROW(train(r), ConfigError);
}

}  // namespace
}  // namespace cvae
