// eval/api_classifier.cpp and eval/classifier.cpp: the judge trains on toy
// data, saves and loads, and refuses a model file in its place.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "eval/classifier.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

// The toy data: three labels, each lights its own band of rows.
class JudgeOnToyData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("cvae-judge");
    testing::write_toy_idx(dir_->file("toy"), 300, 90, 8, 3, 1);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static testing::TempDir* dir_;
};

testing::TempDir* JudgeOnToyData::dir_ = nullptr;

TEST_F(JudgeOnToyData, TrainsSavesLoadsAndRejectsModelFiles) {
  ClassifierTrainRequest req;
  req.data.path = dir_->file("toy");
  req.out = dir_->file("judge.cls");
  req.epochs = 4;
  req.threads = 1;
  req.quiet = true;
  auto res = train_classifier(req);
  EXPECT_EQ(res.test.n, 90);
  EXPECT_GE(res.test.accuracy, 0.95);
  ASSERT_EQ(res.test.accuracy_per_label.size(), 3u);
  ClassifierEvalRequest ev;
  ev.classifier = req.out;
  ev.data.path = req.data.path;
  ev.threads = 1;
  auto again = evaluate_classifier(ev);
  EXPECT_DOUBLE_EQ(again.accuracy, res.test.accuracy);  // the saved weights are the trained ones

  // A CVAE trained on the same data, then its samples, transfers and diversity judged.
  TrainRequest tr = testing::toy_train_request(req.data.path, dir_->file("toy.cvae"), 15);
  tr.train.batch_size = 16;
  tr.train.lr = 0.01;
  train(tr);
  EvalRequest er;
  er.model = tr.out;
  er.data.path = req.data.path;
  er.iw_samples = 0;
  er.judge = req.out;
  er.samples_per_label = 50;
  er.threads = 1;
  auto e = evaluate(er);
  ASSERT_TRUE(e.has_fidelity);
  EXPECT_EQ(e.fidelity.sampler, "gmm");
  EXPECT_GE(e.fidelity.cond_accuracy, 0.9);
  EXPECT_GE(e.fidelity.transfer_accuracy, 0.9);
  EXPECT_EQ(e.fidelity.transfer_count, 90 * 2);
  EXPECT_DOUBLE_EQ(e.fidelity.judge_real_accuracy, res.test.accuracy);
  EXPECT_GT(e.fidelity.diversity_ratio, 0.0);
  EXPECT_TRUE(std::isfinite(e.fidelity.diversity_ratio));
  auto json = nlohmann::json::parse(eval_to_json(e, er));
  for (const char* key :
       {"cond_accuracy", "diversity_ratio", "judge_real_accuracy", "transfer_accuracy"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }

  // Each file type is refused where the other is expected, with a clear message.
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(tr.out); }),
                  "not a cvae classifier file");
  GenerateRequest g;
  g.model = req.out;
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { generate(g); }), "classifier file");
}

}  // namespace
}  // namespace cvae
