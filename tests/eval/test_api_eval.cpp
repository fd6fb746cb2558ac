// eval/api_eval.cpp: cvae::evaluate on a toy image model: the IWAE bound is at
// least as tight as the ELBO, the figures add up, splits and limits pick the
// examples, the seed makes it repeatable, and bad requests are ConfigErrors
// before the model is even read.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "eval/classifier.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

// A toy model (300 training examples, 90 test, three labels) trained once for the suite.
class EvalToy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("cvae-api-eval");
    testing::write_toy_idx(dir_->file("toy"), 300, 90, 8, 3, 1);
    TrainRequest r = testing::toy_train_request(dir_->file("toy"), dir_->file("toy.cvae"), 3);
    train(r);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static EvalRequest request() {
    EvalRequest e;
    e.model = dir_->file("toy.cvae");
    e.data.path = dir_->file("toy");
    e.iw_samples = 0;
    e.threads = 1;
    return e;
  }
  static testing::TempDir* dir_;
};

testing::TempDir* EvalToy::dir_ = nullptr;

TEST_F(EvalToy, TheIwaeBoundIsAtLeastAsTightAsTheElbo) {
  EvalRequest e = request();
  e.iw_samples = 100;
  EvalResult r = evaluate(e);
  ASSERT_EQ(r.n, 90);
  EXPECT_EQ(r.iw_samples, 100);
  ASSERT_TRUE(std::isfinite(r.iw_nll));
  EXPECT_GT(r.iw_nll, 0.0);  // -log p of binary-ish pixels under Bernoulli: positive
  // -log p <= IWAE_K <= -ELBO in expectation; the ELBO here is a one-sample estimate
  // per example, so allow its Monte Carlo error on the mean over 90 examples (well
  // under a nat for these 2-d posteriors).
  EXPECT_LE(r.iw_nll, r.neg_elbo + 1.0);
  EvalRequest one = e;
  one.iw_samples = 1;
  EvalResult r1 = evaluate(one);
  EXPECT_LE(r.iw_nll, r1.iw_nll + 1.0) << "IWAE with 100 samples vs 1 sample";
}

TEST_F(EvalToy, TheFiguresAddUpAndSkippingTheBoundGivesNaN) {
  EvalResult r = evaluate(request());
  EXPECT_EQ(r.modality, "image");
  EXPECT_EQ(r.n, 90);
  EXPECT_EQ(r.iw_samples, 0);
  EXPECT_TRUE(std::isnan(r.iw_nll));
  EXPECT_NEAR(r.neg_elbo, r.recon + r.kl, 1e-9);
  ASSERT_EQ(r.kl_per_dim.size(), 2u);  // latent 2
  const double kl_sum = std::accumulate(r.kl_per_dim.begin(), r.kl_per_dim.end(), 0.0);
  EXPECT_NEAR(kl_sum, r.kl, 1e-4 * std::max(1.0, r.kl));  // float32 sums over 90 examples
  for (double k : r.kl_per_dim) EXPECT_GE(k, -1e-6) << "a KL is never negative";
  EXPECT_GT(r.recon, 0.0);
  EXPECT_GE(r.active_units, 0);
  EXPECT_LE(r.active_units, 2);
  EXPECT_TRUE(std::isnan(r.classifier_accuracy)) << "not a semi-supervised model";
  EXPECT_FALSE(r.has_fidelity);

  auto j = nlohmann::json::parse(eval_to_json(r, request()));
  EXPECT_EQ(j["n"].get<int64_t>(), 90);
  EXPECT_TRUE(j["iw_nll"].is_null());
  EXPECT_EQ(j["units"], "nats per example");
  EXPECT_EQ(fidelity_report(r, request()), "");
}

TEST_F(EvalToy, SplitsAndLimitPickTheExamples) {
  EvalRequest e = request();
  e.limit = 10;
  EXPECT_EQ(evaluate(e).n, 10);
  e.limit = 1000;  // more than there are: all of them
  EXPECT_EQ(evaluate(e).n, 90);
  e.limit = 0;
  e.split = "val";
  EXPECT_EQ(evaluate(e).n, 30);  // 10% of 300 held out in training
  e.split = "train";
  EXPECT_EQ(evaluate(e).n, 270);
  // The auto number of importance samples for images is 1000.
  e.split = "test";
  e.limit = 3;
  e.iw_samples = -1;
  EXPECT_EQ(evaluate(e).iw_samples, 1000);
}

TEST_F(EvalToy, TheSameSeedGivesTheSameFigures) {
  EvalRequest e = request();
  e.iw_samples = 5;
  EvalResult a = evaluate(e), b = evaluate(e);
  EXPECT_EQ(a.neg_elbo, b.neg_elbo);
  EXPECT_EQ(a.iw_nll, b.iw_nll);
  e.seed = 2;
  EvalResult c = evaluate(e);
  EXPECT_NE(a.neg_elbo, c.neg_elbo) << "the reparameterisation noise comes from the seed";
  // The batch size changes how the work is cut, not the closed-form KL.
  EvalRequest small = request();
  small.batch_size = 7;
  const double kl = evaluate(request()).kl;
  EXPECT_NEAR(evaluate(small).kl, kl, 1e-4 * std::max(1.0, kl));  // float32 rounding
}

TEST_F(EvalToy, BadRequestsAreConfigErrorsBeforeTheModelIsRead) {
  EvalRequest e = request();
  e.model = dir_->file("no-such-model.cvae");  // reading it would be a CheckpointError
  auto bad = [&](auto change, const std::string& needle) {
    EvalRequest r = e;
    change(r);
    EXPECT_CONTAINS(error_of<ConfigError>([&] { evaluate(r); }), needle);
  };
  bad([](EvalRequest& r) { r.split = "dev"; }, "--split");
  bad([](EvalRequest& r) { r.iw_samples = -2; }, "--iw-samples");
  bad([](EvalRequest& r) { r.batch_size = 0; }, "--batch-size");
  bad([](EvalRequest& r) { r.limit = -1; }, "--limit");
  bad([](EvalRequest& r) { r.samples_per_label = 1; }, "--samples-per-label");
  bad([](EvalRequest& r) { r.transfer_examples = -1; }, "--transfer-examples");
  EXPECT_THROW(evaluate(e), CheckpointError);  // a good request does read the model
}

TEST_F(EvalToy, AJudgeOfAnotherShapeOrABadSamplerIsRefused) {
  // A judge of 4x4 images for the model of 8x8 ones.
  eval::ClassifierConfig jc;
  jc.input_shape = {1, 4, 4};
  jc.condition.labels = {"0", "1", "2"};
  jc.channels = {4};
  jc.hidden = 8;
  eval::Classifier net(jc);
  eval::ClassifierFile jf;
  jf.config = net->config();
  jf.weights = models::module_to_bytes(*net);
  const std::string judge = dir_->file("judge4.cls");
  eval::save_classifier(judge, jf);
  EvalRequest e = request();
  e.judge = judge;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { evaluate(e); }), "takes examples of shape 1x4x4");

  // A judge of the right shape, and a sampler that does not exist.
  jc.input_shape = {1, 8, 8};
  eval::Classifier net8(jc);
  jf.config = net8->config();
  jf.weights = models::module_to_bytes(*net8);
  eval::save_classifier(dir_->file("judge8.cls"), jf);
  e.judge = dir_->file("judge8.cls");
  e.sampler = "uniform";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { evaluate(e); }), "--sampler");
  // The same judge with the mixture sampler measures fidelity.
  e.sampler = "gmm";
  e.samples_per_label = 4;
  e.transfer_examples = 3;
  EvalResult r = evaluate(e);
  ASSERT_TRUE(r.has_fidelity);
  EXPECT_EQ(r.fidelity.sampler, "gmm");
  EXPECT_EQ(r.fidelity.samples, 12);
  EXPECT_EQ(r.fidelity.candidates, kImageCandidates);  // the images' auto reranking
  EXPECT_DOUBLE_EQ(r.fidelity.latent_temperature, kImageLatentTemperature);
  EXPECT_NE(fidelity_report(r, e), "");
}

}  // namespace
}  // namespace cvae
