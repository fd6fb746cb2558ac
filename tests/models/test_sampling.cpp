// models/sampling.cpp: the sampler choice, latent draws from the prior and the
// mixture, best-of reranking, mean decoding, the latent side of transfer, and the
// model's own label posterior and label inference.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "models/cvae_model.h"
#include "models/latent_density.h"
#include "models/model_file.h"
#include "models/sampling.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

// An untrained model of 1x8x8 images with three labels (the maths does not need training).
models::CVAE untrained(const std::string& prior, uint64_t seed = 5) {
  torch::manual_seed(seed);
  auto cfg = testing::toy_model_config({1, 8, 8}, 3, {16}, 2);
  cfg.prior = prior;
  models::CVAE model(cfg);
  model->eval();
  return model;
}

// -ELBO(x, row j) with z at the posterior mean, written out from the definition.
torch::Tensor neg_elbo_at_mean(models::CVAEImpl& model, const torch::Tensor& x, int64_t j) {
  torch::NoGradGuard no_grad;
  auto c = torch::zeros({x.size(0), 3});
  c.select(1, j).fill_(1.0);
  auto [mu, logvar] = model.encode(x, c);
  auto recon = model.likelihood().nll(model.decode(mu, c, x), x.flatten(1));
  auto kl = model.kl_per_dim(mu, logvar, c).sum(1);
  return (recon + kl).to(torch::kFloat64);
}

// A toy model trained once for the suite: three labels, each its own band of rows,
// with a fitted latent mixture; and the same file without the mixture.
class TrainedToy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("cvae-sampling");
    testing::write_toy_idx(dir_->file("toy"), 300, 90, 8, 3, 1);
    TrainRequest r = testing::toy_train_request(dir_->file("toy"), dir_->file("toy.cvae"), 15);
    r.train.batch_size = 16;
    r.train.lr = 0.01;
    train(r);
    models::ModelFile f = models::load_model_file(dir_->file("toy.cvae"));
    f.latent_mixture.clear();
    models::save_model_file(dir_->file("nomix.cvae"), f);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static data::Dataset test_split() {
    DataConfig dc;
    dc.path = file("toy");
    return modalities::load_dataset(dc, "test");
  }
  static testing::TempDir* dir_;
};

testing::TempDir* TrainedToy::dir_ = nullptr;

TEST_F(TrainedToy, ChooseSamplerFollowsTheRequestAndTheFile) {
  auto with = models::load_model_file(file("toy.cvae"));
  auto without = models::load_model_file(file("nomix.cvae"));
  EXPECT_FALSE(models::choose_sampler("prior", with).defined());
  auto mix = models::choose_sampler("auto", with);
  ASSERT_TRUE(mix.defined());
  EXPECT_EQ(mix.means.size(2), with.model.latent);
  EXPECT_EQ(mix.rows.size(0), 3);  // one mixture per label
  EXPECT_TRUE(models::choose_sampler("gmm", with).defined());
  EXPECT_FALSE(models::choose_sampler("auto", without).defined());
  EXPECT_FALSE(models::choose_sampler("prior", without).defined());
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { models::choose_sampler("gmm", without); }),
                  "no latent mixture");
  EXPECT_CONTAINS(error_of<ConfigError>([&] { models::choose_sampler("kmeans", with); }),
                  "'kmeans'");
  // A mixture of another latent size than the model's is refused.
  auto other = with;
  other.model.latent = with.model.latent + 1;
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { models::choose_sampler("auto", other); }),
                  "dimensions");
}

TEST_F(TrainedToy, MixtureDrawsAtTemperatureZeroAreComponentMeansOfTheirLabel) {
  models::ModelFile info;
  auto model = models::load_model(file("toy.cvae"), &info);
  auto mix = models::choose_sampler("gmm", info);
  ASSERT_TRUE(mix.defined());
  auto rows = data::parse_labels(info.model.conditions, {"all"});  // (3, 1)
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const int64_t n = 7;
  auto z = models::sample_latent(*model, rows, n, 0.0, gen, mix);
  ASSERT_EQ(z.sizes().vec(), (std::vector<int64_t>{3 * n, info.model.latent}));
  auto index = models::mixture_row_index(mix, rows, data::label_names(info.model.conditions, rows));
  for (int64_t k = 0; k < 3; ++k) {
    const int64_t r = index[k].item<int64_t>();
    auto means = mix.means[r].to(torch::kFloat32);  // (M, Z)
    auto used = mix.weights[r] > 0;                 // (M,)
    for (int64_t i = 0; i < n; ++i) {
      auto d = (means - z[k * n + i]).abs().amax(1);  // (M,)
      auto nearest = torch::where(used, d, torch::full_like(d, 1e30)).min().item<double>();
      EXPECT_LE(nearest, 1e-4) << "draw " << i << " of label " << k
                               << " is no component mean of its own label";
    }
  }
}

TEST(SampleLatent, PriorDrawsScaleWithTemperatureAndAreStandardNormal) {
  auto model = untrained("standard");
  auto rows = data::parse_labels(model->config().conditions, {"all"});
  auto g0 = at::make_generator<at::CPUGeneratorImpl>(11);
  auto zero = models::sample_latent(*model, rows, 4, 0.0, g0, {});
  ASSERT_EQ(zero.sizes().vec(), (std::vector<int64_t>{12, 2}));
  EXPECT_EQ(zero.abs().max().item<double>(), 0.0);  // N(0, I) at temperature 0: the mean
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(11);
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(11);
  auto one = models::sample_latent(*model, rows, 4, 1.0, g1, {});
  auto two = models::sample_latent(*model, rows, 4, 2.0, g2, {});
  EXPECT_LE((two - 2.0 * one).abs().max().item<double>(), 1e-6);
  // 3 x 2000 draws: mean 0 and standard deviation 1, each within about 5 standard errors.
  auto g3 = at::make_generator<at::CPUGeneratorImpl>(12);
  auto many = models::sample_latent(*model, rows, 2000, 1.0, g3, {});
  EXPECT_LE(many.mean(0).abs().max().item<double>(), 0.05);
  EXPECT_LE((many.std(0) - 1.0).abs().max().item<double>(), 0.05);
}

TEST(SampleLatent, LearnedPriorDrawsAreCentredOnThePriorMeanOfTheirLabel) {
  auto model = untrained("learned");
  const auto& conds = model->config().conditions;
  auto rows = data::parse_labels(conds, {"all"});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  auto z = models::sample_latent(*model, rows, 1, 0.0, gen, {});  // (3, Z): the prior means
  torch::NoGradGuard no_grad;
  auto mu_p = model->prior(data::encode_conditions(conds, rows)).first;
  EXPECT_LE((z - mu_p).abs().max().item<double>(), 1e-6);
  // Label-major: n draws of label 0, then of label 1, ...
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(2);
  auto z5 = models::sample_latent(*model, rows, 5, 0.0, g2, {});
  for (int64_t k = 0; k < 3; ++k) {
    for (int64_t i = 0; i < 5; ++i)
      EXPECT_LE((z5[k * 5 + i] - mu_p[k]).abs().max().item<double>(), 1e-6);
  }
}

TEST(DecodeMean, IsTheSigmoidOfTheLogitsInTheExampleShape) {
  auto model = untrained("standard");
  auto z = torch::randn({6, 2});
  auto c = data::encode_conditions(model->config().conditions,
                                   torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64).view({6, 1}));
  auto x = models::decode_mean(*model, z, c);
  ASSERT_EQ(x.sizes().vec(), (std::vector<int64_t>{6, 1, 8, 8}));
  torch::NoGradGuard no_grad;
  auto expected = torch::sigmoid(model->decode(z, c)).view({6, 1, 8, 8});
  EXPECT_LE((x - expected).abs().max().item<double>(), 1e-6);
  EXPECT_GE(x.min().item<double>(), 0.0);
  EXPECT_LE(x.max().item<double>(), 1.0);
}

TEST(LabelLogPosterior, IsANormalisedSoftmaxOfMinusTheElbos) {
  auto model = untrained("learned");
  torch::manual_seed(9);
  auto x = torch::rand({5, 1, 8, 8});
  auto lp = models::label_log_posterior(*model, x);
  ASSERT_EQ(lp.sizes().vec(), (std::vector<int64_t>{5, 3}));
  EXPECT_LE(torch::logsumexp(lp, 1).abs().max().item<double>(), 1e-9);
  // log p(i | x) - log p(j | x) = -ELBO(x, j) - -ELBO(x, i).
  std::vector<torch::Tensor> ne;
  for (int64_t j = 0; j < 3; ++j) ne.push_back(neg_elbo_at_mean(*model, x, j));
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      auto lhs = lp.select(1, i) - lp.select(1, j);
      EXPECT_LE((lhs - (ne[static_cast<size_t>(j)] - ne[static_cast<size_t>(i)]))
                    .abs()
                    .max()
                    .item<double>(),
                1e-3)
          << "rows " << i << " and " << j;
    }
  }
}

TEST(BestOf, OneCandidateIsOneDrawAndMoreKeepTheHighestPosterior) {
  auto model = untrained("learned");
  torch::manual_seed(4);
  auto targets = torch::tensor({0, 1, 2, 1}, torch::kInt64).view({4, 1});
  int calls = 0;
  std::vector<torch::Tensor> drawn;
  auto draw = [&] {
    ++calls;
    drawn.push_back(torch::rand({4, 1, 8, 8}));
    return drawn.back();
  };
  auto single = models::best_of(*model, draw, targets, 1);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(torch::equal(single, drawn[0]));

  calls = 0;
  drawn.clear();
  auto best = models::best_of(*model, draw, targets, 5);
  EXPECT_EQ(calls, 5);
  ASSERT_EQ(best.sizes().vec(), (std::vector<int64_t>{4, 1, 8, 8}));
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t t = targets[i][0].item<int64_t>();
    // The kept row is one of the candidates, and none scores higher for its target.
    double kept = std::nan(""), top = -1e300;
    for (const auto& cand : drawn) {
      const double s =
          models::label_log_posterior(*model, cand.slice(0, i, i + 1))[0][t].item<double>();
      top = std::max(top, s);
      if (torch::equal(cand[i], best[i])) kept = s;
    }
    ASSERT_FALSE(std::isnan(kept)) << "row " << i << " is none of the candidates";
    EXPECT_GE(kept, top - 1e-6) << "row " << i;
  }
}

TEST_F(TrainedToy, BestOfPicksTheCandidateOfTheTargetLabel) {
  auto model = models::load_model(file("toy.cvae"));
  auto d = test_split();
  auto y = d.y.select(1, 0);
  // Example j of label k: the j-th test example with that label.
  auto of_label = [&](int64_t k) { return d.x.index({y == k}).slice(0, 0, 3); };  // (3, ...)
  std::vector<torch::Tensor> by_label = {of_label(0), of_label(1), of_label(2)};
  auto targets = torch::tensor({0, 1, 2}, torch::kInt64).view({3, 1});
  int64_t r = 0;
  // Candidate r holds, in row i, an example of label (i + r) % 3: the right one
  // sits at a different candidate in each row.
  auto draw = [&] {
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < 3; ++i) rows.push_back(by_label[static_cast<size_t>((i + r) % 3)][i]);
    ++r;
    return torch::stack(rows);
  };
  auto best = models::best_of(*model, draw, targets, 3);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::equal(best[i], by_label[static_cast<size_t>(i)][i])) << "row " << i;
}

TEST_F(TrainedToy, InferLabelsReadsTheLabelsOfRealExamples) {
  auto model = models::load_model(file("toy.cvae"));
  auto d = test_split();
  auto labels = models::infer_labels(*model, d.x);
  ASSERT_EQ(labels.sizes().vec(), (std::vector<int64_t>{d.size(), 1}));
  // Each inferred row is the row of the highest label posterior.
  auto argmax = models::label_log_posterior(*model, d.x).argmax(1);
  EXPECT_TRUE(torch::equal(labels.select(1, 0), argmax));
  const double acc = (labels == d.y).to(torch::kFloat64).mean().item<double>();
  EXPECT_GE(acc, 0.9) << "the toy labels light disjoint bands of rows";
}

TEST(TransferLatent, StandardPriorKeepsTheCodeAndSetsTheTargetConditions) {
  auto model = untrained("standard");
  const auto& conds = model->config().conditions;
  torch::manual_seed(8);
  auto x = torch::rand({2, 1, 8, 8});
  auto y = torch::tensor({0, 2}, torch::kInt64).view({2, 1});
  auto targets = torch::tensor({1, 2, 0}, torch::kInt64).view({3, 1});
  auto [z, c] = models::transfer_latent(*model, x, y, targets, {});
  ASSERT_EQ(z.sizes().vec(), (std::vector<int64_t>{6, 2}));
  ASSERT_EQ(c.sizes().vec(), (std::vector<int64_t>{6, 3}));
  torch::NoGradGuard no_grad;
  auto mu = model->encode(x, data::encode_conditions(conds, y)).first;
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t t = 0; t < 3; ++t) {
      EXPECT_LE((z[i * 3 + t] - mu[i]).abs().max().item<double>(), 1e-6);
      auto onehot = torch::zeros({3});
      onehot[targets[t][0].item<int64_t>()] = 1.0;
      EXPECT_TRUE(torch::equal(c[i * 3 + t], onehot)) << "source " << i << " target " << t;
    }
  }
}

TEST(TransferLatent, LearnedPriorMovesTheCodeByThePriorsMeansAndScales) {
  auto model = untrained("learned", 6);
  const auto& conds = model->config().conditions;
  torch::manual_seed(8);
  auto x = torch::rand({2, 1, 8, 8});
  auto y = torch::tensor({0, 1}, torch::kInt64).view({2, 1});
  auto targets = torch::tensor({0, 1, 2}, torch::kInt64).view({3, 1});
  auto [z, c] = models::transfer_latent(*model, x, y, targets, {});
  torch::NoGradGuard no_grad;
  auto mu = model->encode(x, data::encode_conditions(conds, y)).first;
  auto [mu_p, lv_p] = model->prior(data::encode_conditions(conds, targets));  // (3, Z)
  for (int64_t i = 0; i < 2; ++i) {
    const int64_t s = y[i][0].item<int64_t>();
    for (int64_t t = 0; t < 3; ++t) {
      // z' = mu_p(t) + sigma_p(t) / sigma_p(s) * (z - mu_p(s)); to its own label: z' = z.
      auto expected = mu_p[t] + torch::exp(0.5 * (lv_p[t] - lv_p[s])) * (mu[i] - mu_p[s]);
      EXPECT_LE((z[i * 3 + t] - expected).abs().max().item<double>(), 1e-5);
      if (t == s) {
        EXPECT_LE((z[i * 3 + t] - mu[i]).abs().max().item<double>(), 1e-5);
      }
    }
  }
}

TEST_F(TrainedToy, TransferLatentThroughTheMixtureToTheOwnLabelKeepsTheCode) {
  models::ModelFile info;
  auto model = models::load_model(file("toy.cvae"), &info);
  auto mix = models::choose_sampler("gmm", info);
  ASSERT_TRUE(mix.defined());
  auto d = test_split();
  auto x = d.x.slice(0, 0, 3), y = d.y.slice(0, 0, 3);  // labels 0, 1, 2
  auto targets = torch::tensor({0, 1, 2}, torch::kInt64).view({3, 1});
  auto [z, c] = models::transfer_latent(*model, x, y, targets, mix);
  ASSERT_EQ(z.sizes().vec(), (std::vector<int64_t>{9, info.model.latent}));
  torch::NoGradGuard no_grad;
  auto mu = model->encode(x, data::encode_conditions(info.model.conditions, y)).first;
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t own = y[i][0].item<int64_t>();
    EXPECT_LE((z[i * 3 + own] - mu[i]).abs().max().item<double>(), 1e-4) << "example " << i;
  }
  // Moving to another label does move the code.
  EXPECT_GT((z[1] - mu[0]).abs().max().item<double>(), 1e-3);
}

}  // namespace
}  // namespace cvae
