// train/trainer.cpp: exact resume, the non-finite guard, the best-by-validation
// model, save/load round trips, targeted samples on class-separable data, and
// semi-supervised training where only 2 examples per label keep their labels.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/image/image_sampling.h"
#include "modalities/modality.h"
#include "models/cvae_model.h"
#include "models/model_file.h"
#include "support/tiny_data.h"

namespace fs = std::filesystem;

namespace cvae {
namespace {

TrainRequest toy_request(const std::string& data, const std::string& out, int64_t epochs) {
  TrainRequest r = testing::toy_train_request(data, out, epochs);
  r.train.seed = 7;
  return r;
}

void expect_same_parameters(const std::string& a, const std::string& b) {
  auto ma = models::load_model(a);
  auto mb = models::load_model(b);
  auto pa = ma->named_parameters();
  auto pb = mb->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) {
    EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key() << " differs";
  }
  // The resumable state (latest weights and optimizer) must agree too.
  auto fa = models::load_model_file(a);
  auto fb = models::load_model_file(b);
  ASSERT_TRUE(fa.resume && fb.resume);
  EXPECT_EQ(fa.state.step, fb.state.step);
  EXPECT_EQ(fa.state.epochs_done, fb.state.epochs_done);
  models::CVAE la(fa.model), lb(fb.model);
  models::module_from_bytes(*la, fa.resume->weights, "a");
  models::module_from_bytes(*lb, fb.resume->weights, "b");
  auto qa = la->named_parameters();
  auto qb = lb->named_parameters();
  for (const auto& p : qa)
    EXPECT_TRUE(torch::equal(p.value(), qb[p.key()])) << "latest " << p.key();
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>("trainer");
    data_ = dir_->path() + "/data";
    fs::create_directories(data_);
    testing::write_toy_idx(data_, 300, 90, 8, 3, 1);
  }
  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }
  std::unique_ptr<testing::TempDir> dir_;
  std::string data_;
};

TEST_F(TrainerTest, ResumeMidEpochEndsWithSameWeightsAsUninterruptedRun) {
  auto full = toy_request(data_, path("full.cvae"), 4);
  TrainResult a = train(full);
  ASSERT_FALSE(a.interrupted);
  ASSERT_EQ(a.epochs_done, 4);

  auto part = toy_request(data_, path("part.cvae"), 4);
  const int64_t steps_per_epoch = (270 + 31) / 32;  // 300 minus 10% validation, batch 32
  part.stop_after_steps = steps_per_epoch + 3;      // in the middle of epoch 2
  TrainResult b = train(part);
  ASSERT_TRUE(b.interrupted);
  EXPECT_EQ(b.steps, steps_per_epoch + 3);
  EXPECT_EQ(models::load_model_file(path("part.cvae")).state.batch_in_epoch, 3);

  auto resume = toy_request(data_, "", 0);
  resume.resume = path("part.cvae");
  TrainResult c = train(resume);
  EXPECT_FALSE(c.interrupted);
  EXPECT_EQ(c.epochs_done, 4);
  EXPECT_EQ(c.steps, a.steps);
  expect_same_parameters(path("full.cvae"), path("part.cvae"));
}

TEST_F(TrainerTest, ResumeCanExtendTheNumberOfEpochs) {
  auto r = toy_request(data_, path("m.cvae"), 2);
  train(r);
  auto more = toy_request(data_, "", 0);
  more.resume = path("m.cvae");
  more.resume_epochs = 3;
  TrainResult res = train(more);
  EXPECT_EQ(res.epochs_done, 3);
  ASSERT_EQ(res.epochs.size(), 1u);
  EXPECT_EQ(res.epochs[0].epoch, 3);
  auto direct = toy_request(data_, path("direct.cvae"), 3);
  train(direct);
  expect_same_parameters(path("direct.cvae"), path("m.cvae"));
}

TEST_F(TrainerTest, ResumeRejectsFewerEpochsAndWritesOutWhenDone) {
  train(toy_request(data_, path("m.cvae"), 2));
  auto fewer = toy_request(data_, "", 0);
  fewer.resume = path("m.cvae");
  fewer.resume_epochs = 1;
  EXPECT_THROW(train(fewer), ConfigError);
  auto copy = toy_request(data_, path("copy.cvae"), 0);
  copy.resume = path("m.cvae");
  TrainResult r = train(copy);
  EXPECT_TRUE(r.epochs.empty());
  ASSERT_TRUE(fs::exists(path("copy.cvae")));
  expect_same_parameters(path("m.cvae"), path("copy.cvae"));
}

TEST_F(TrainerTest, NonFiniteLossStopsWithStepAndKeepsLastGoodFile) {
  auto r = toy_request(data_, path("nan.cvae"), 3);
  const int64_t steps_per_epoch = 9;
  r.inject_nan_at_step = steps_per_epoch + 2;  // epoch 2
  try {
    train(r);
    FAIL() << "expected NumericError";
  } catch (const NumericError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("step 11"), std::string::npos) << msg;
    EXPECT_NE(msg.find("epoch 2"), std::string::npos) << msg;
  }
  auto f = models::load_model_file(path("nan.cvae"));
  EXPECT_EQ(f.state.epochs_done, 1);
  EXPECT_EQ(f.state.step, steps_per_epoch);
  auto m = models::load_model(path("nan.cvae"));
  for (const auto& p : m->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(dir_->path())) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST_F(TrainerTest, KeepsBestModelByValidationAndWritesMetricsLines) {
  auto r = toy_request(data_, path("best.cvae"), 3);
  TrainResult res = train(r);
  ASSERT_EQ(res.epochs.size(), 3u);
  double best = 1e300;
  int64_t best_epoch = 0;
  for (const auto& m : res.epochs) {
    if (m.val_loss < best) best = m.val_loss, best_epoch = m.epoch;
  }
  auto f = models::load_model_file(path("best.cvae"));
  EXPECT_EQ(f.state.best_epoch, best_epoch);
  EXPECT_DOUBLE_EQ(f.state.best_val, best);
  // Metrics: one JSON line per epoch with the losses.
  std::string text = core::read_file(res.metrics_path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_NEAR(first["train_loss"].get<double>(), res.epochs[0].train_loss, 1e-9);
  EXPECT_TRUE(first.contains("val_kl"));
}

TEST_F(TrainerTest, SaveLoadRoundTripGivesIdenticalSamples) {
  auto r = toy_request(data_, path("m.cvae"), 2);
  train(r);
  models::ModelFile f;
  auto m1 = models::load_model(path("m.cvae"), &f);
  models::save_model_file(path("copy.cvae"), f);
  auto m2 = models::load_model(path("copy.cvae"));
  auto rows = data::parse_labels(f.model.conditions, {"all"});
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(42);
  auto g2 = at::make_generator<at::CPUGeneratorImpl>(42);
  auto s1 = modalities::image::sample(*m1, rows, 5, 1.0, g1, false);
  auto s2 = modalities::image::sample(*m2, rows, 5, 1.0, g2, false);
  EXPECT_TRUE(torch::equal(s1, s2));
  auto g3 = at::make_generator<at::CPUGeneratorImpl>(43);
  EXPECT_FALSE(torch::equal(s1, modalities::image::sample(*m1, rows, 5, 1.0, g3, false)));
  EXPECT_EQ(core::read_file(path("m.cvae")).size(), core::read_file(path("copy.cvae")).size());
}

// On class-separable data, samples for class k land nearest the mean image of class k.
TEST_F(TrainerTest, SamplesForEachLabelLandNearestThatLabel) {
  auto r = toy_request(data_, path("m.cvae"), 60);
  r.train.lr = 3e-3;
  train(r);
  models::ModelFile f;
  auto model = models::load_model(path("m.cvae"), &f);
  DataConfig dc;
  dc.path = data_;
  auto d = modalities::load_dataset(dc, "train");
  const int64_t classes = 3;
  std::vector<torch::Tensor> means;
  for (int64_t k = 0; k < classes; ++k) {
    auto idx = (d.y.select(1, 0) == k).nonzero().view({-1});
    means.push_back(d.x.index_select(0, idx).mean(0).flatten());
  }
  auto centres = torch::stack(means);  // (3, D)
  auto rows = data::parse_labels(f.model.conditions, {"all"});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto samples =
      modalities::image::sample(*model, rows, 50, 1.0, gen, false).flatten(1);  // (150, D)
  auto dist = torch::cdist(samples, centres);                                   // (150, 3)
  auto nearest = dist.argmin(1);
  for (int64_t k = 0; k < classes; ++k) {
    auto hits = (nearest.slice(0, k * 50, (k + 1) * 50) == k).sum().item<int64_t>();
    EXPECT_GE(hits, 48) << "label " << k;
  }
}

TEST_F(TrainerTest, RejectsBadConfigBeforeTouchingTheOutput) {
  core::write_file_atomic(path("keep.cvae"), std::string("previous content"));
  auto r = toy_request(data_, path("keep.cvae"), 1);
  r.train.lr = -1;
  EXPECT_THROW(train(r), ConfigError);
  r = toy_request(data_, path("keep.cvae"), 1);
  r.model.latent = 0;
  EXPECT_THROW(train(r), ConfigError);
  r = toy_request(data_ + "/missing", path("keep.cvae"), 1);
  EXPECT_THROW(train(r), DataError);
  EXPECT_EQ(core::read_file(path("keep.cvae")), "previous content");
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
