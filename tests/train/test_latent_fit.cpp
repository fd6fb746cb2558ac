// train/latent_fit.cpp: cvae::fit_sampler stores a per-label latent mixture of the
// requested size in the model file (beside it or in place), generate can then
// sample from it, bad options are ConfigErrors, and fit_mixture_bytes fits to
// samples or means and skips labels with fewer than 2 examples.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "models/latent_density.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"
#include "train/latent_fit.h"

namespace cvae {
namespace {

using testing::error_of;

// A toy model trained once for the suite without a latent mixture.
class FitToy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("cvae-latent-fit");
    testing::write_toy_idx(dir_->file("toy"), 300, 30, 8, 3, 1);
    TrainRequest r = testing::toy_train_request(dir_->file("toy"), dir_->file("plain.cvae"), 2);
    r.train.gmm_components = 0;
    train(r);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static FitSamplerRequest request(const std::string& out) {
    FitSamplerRequest f;
    f.model = file("plain.cvae");
    f.data.path = file("toy");
    f.out = out;
    f.components = 3;
    f.threads = 1;
    return f;
  }
  static GenerateRequest gmm_generate(const std::string& model) {
    GenerateRequest g;
    g.model = model;
    g.sampler = "gmm";
    g.n = 2;
    g.format = "idx";
    g.out = file("gen-" + std::to_string(++generated_));
    g.threads = 1;
    return g;
  }
  static testing::TempDir* dir_;
  static int generated_;
};

testing::TempDir* FitToy::dir_ = nullptr;
int FitToy::generated_ = 0;

TEST_F(FitToy, StoresTheMixtureInANewFileAndGenerateUsesIt) {
  ASSERT_TRUE(models::load_model_file(file("plain.cvae")).latent_mixture.empty());
  EXPECT_THROW(generate(gmm_generate(file("plain.cvae"))), CheckpointError);

  FitSamplerResult res = fit_sampler(request(file("fitted.cvae")));
  EXPECT_EQ(res.path, file("fitted.cvae"));
  EXPECT_EQ(res.examples, 270);  // 300 less the 10% held out for validation
  EXPECT_EQ(res.components, 3);
  models::ModelFile f = models::load_model_file(file("fitted.cvae"));
  ASSERT_FALSE(f.latent_mixture.empty());
  EXPECT_EQ(f.train.gmm_components, 3);
  auto mix = models::mixture_from_bytes(f.latent_mixture, "fitted");
  EXPECT_EQ(mix.components(), 3);
  EXPECT_EQ(mix.rows.size(0), 3) << "one mixture per label";
  EXPECT_EQ(mix.means.size(2), f.model.latent);
  // The weights are unchanged; the source file is left alone.
  EXPECT_EQ(f.weights, models::load_model_file(file("plain.cvae")).weights);
  EXPECT_TRUE(models::load_model_file(file("plain.cvae")).latent_mixture.empty());

  GenerateResult g = generate(gmm_generate(file("fitted.cvae")));
  EXPECT_EQ(g.count, 6);
}

TEST_F(FitToy, WithoutOutRewritesTheModelFileAndTheSeedRepeats) {
  // A copy to rewrite, so the suite's model stays without a mixture.
  testing::write_bytes(file("inplace.cvae"), testing::read_bytes(file("plain.cvae")));
  auto req = request("");
  req.model = file("inplace.cvae");
  EXPECT_EQ(fit_sampler(req).path, file("inplace.cvae"));
  const std::string first = models::load_model_file(file("inplace.cvae")).latent_mixture;
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(generate(gmm_generate(file("inplace.cvae"))).count, 6);

  fit_sampler(req);
  EXPECT_EQ(models::load_model_file(file("inplace.cvae")).latent_mixture, first)
      << "the same seed and data give the same mixture";
  req.seed = 2;
  fit_sampler(req);
  EXPECT_NE(models::load_model_file(file("inplace.cvae")).latent_mixture, first);
  req.seed = 1;
  req.source = "means";
  fit_sampler(req);
  EXPECT_NE(models::load_model_file(file("inplace.cvae")).latent_mixture, first)
      << "means are not the samples";
}

TEST_F(FitToy, BadOptionsAreConfigErrorsBeforeTheModelIsRead) {
  auto req = request(file("never.cvae"));
  req.model = file("missing.cvae");  // reading it would be a CheckpointError
  req.components = 0;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { fit_sampler(req); }), "--components");
  req.components = 1001;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { fit_sampler(req); }), "--components");
  req.components = 3;
  req.source = "medians";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { fit_sampler(req); }), "'medians'");
  req.source = "samples";
  EXPECT_THROW(fit_sampler(req), CheckpointError);
  EXPECT_FALSE(testing::file_exists(file("never.cvae")));
  // Data of another shape than the model's.
  testing::write_toy_idx(file("toy12"), 30, 6, 12, 3, 2);
  auto other = request(file("never.cvae"));
  other.data.path = file("toy12");
  EXPECT_THROW(fit_sampler(other), DataError);
  EXPECT_FALSE(testing::file_exists(file("never.cvae")));
}

TEST_F(FitToy, FitMixtureBytesFitsEachLabelAndSkipsLoneExamples) {
  models::ModelFile info;
  auto model = models::load_model(file("plain.cvae"), &info);
  DataConfig dc;
  dc.path = file("toy");
  data::Dataset d = modalities::load_dataset(dc, "train");
  model->train();
  const std::string bytes = training::fit_mixture_bytes(*model, d, 2, 1, true);
  EXPECT_TRUE(model->is_training()) << "the mode is restored";
  auto mix = models::mixture_from_bytes(bytes, "fit");
  EXPECT_EQ(mix.rows.size(0), 3);
  EXPECT_EQ(mix.components(), 2);
  // Each label's weights sum to 1.
  EXPECT_LE((mix.weights.sum(1) - 1.0).abs().max().item<double>(), 1e-6);
  // Means fit the posterior means: a label's mixture mean lies inside their range.
  torch::NoGradGuard no_grad;
  model->eval();
  auto mu = model->encode(d.x, data::encode_conditions(d.conditions, d.y)).first;
  for (int64_t r = 0; r < 3; ++r) {
    const int64_t k = mix.rows[r][0].item<int64_t>();
    auto mu_k = mu.index({d.y.select(1, 0) == k}).to(torch::kFloat64);  // (N_k, Z)
    auto mean = (mix.weights[r].unsqueeze(1) * mix.means[r]).sum(0);    // (Z,)
    EXPECT_TRUE((mean >= mu_k.amin(0) - 1e-6).all().item<bool>()) << "label " << k;
    EXPECT_TRUE((mean <= mu_k.amax(0) + 1e-6).all().item<bool>()) << "label " << k;
  }
  // One example per label: nothing to fit.
  auto lone = d.subset(torch::arange(3, torch::kInt64));  // labels 0, 1, 2
  EXPECT_EQ(training::fit_mixture_bytes(*model, lone, 2, 1, false), "");
}

}  // namespace
}  // namespace cvae
