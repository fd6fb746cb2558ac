// The test-only toy modality (toy_modality.h) through every command: a kind of
// data the core has never heard of trains, generates the requested labels,
// evaluates with a judge, transfers, interpolates and describes itself, with
// no change outside its folder.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"
#include "toy_modality.h"

namespace {

using cvae::testing::TempDir;

// Label "a" near (0.8, 0.2, 0.8, 0.2), "b" near (0.2, 0.8, 0.2, 0.8).
const double kMean[2][4] = {{0.8, 0.2, 0.8, 0.2}, {0.2, 0.8, 0.2, 0.8}};

void write_toy_vectors(const std::string& path, int per_label) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::ofstream out(path);
  for (int i = 0; i < per_label; ++i) {
    for (int k = 0; k < 2; ++k) {
      out << (k == 0 ? "a" : "b");
      for (double m : kMean[k]) out << "," << m + noise(rng);
      out << "\n";
    }
  }
}

struct Row {
  std::string label;
  std::vector<double> v;
};

std::vector<Row> read_rows(const std::string& path) {
  std::vector<Row> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    Row r;
    std::getline(ss, r.label, ',');
    while (std::getline(ss, cell, ',')) r.v.push_back(std::stod(cell));
    rows.push_back(r);
  }
  return rows;
}

// Squared distance from v to label k's mean.
double dist2(const std::vector<double>& v, int k) {
  double s = 0;
  for (size_t j = 0; j < v.size(); ++j) s += (v[j] - kMean[k][j]) * (v[j] - kMean[k][j]);
  return s;
}

class ToyModality : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cvae::testing::register_toy_modality();
    dir_ = new TempDir("cvae-toy");
    write_toy_vectors(dir_->file("toy.vec"), 200);
    auto req = cvae::testing::toy_train_request(dir_->file("toy.vec"), dir_->file("toy.cvae"), 15);
    req.model.arch = "auto";
    req.model.prior = "learned";
    req.train.gmm_components = 0;
    cvae::train(req);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static TempDir* dir_;
};
TempDir* ToyModality::dir_ = nullptr;

TEST_F(ToyModality, IsRegisteredAndClaimsItsFiles) {
  auto names = cvae::modality_names();
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[0], "image");  // the fallback reader stays first
  EXPECT_NE(std::find(names.begin(), names.end(), "toy"), names.end());
  const std::string info = cvae::describe_model(file("toy.cvae"), false);
  EXPECT_CONTAINS(info, "modality        toy\n");
  EXPECT_CONTAINS(info, "mlp encoder/decoder, gaussian likelihood");  // the toy's defaults
}

TEST_F(ToyModality, GeneratesTheRequestedLabels) {
  cvae::GenerateRequest g;
  g.model = file("toy.cvae");
  g.n = 30;
  g.out = file("samples.csv");
  auto res = cvae::generate(g);
  EXPECT_EQ(res.count, 60);
  auto rows = read_rows(file("samples.csv"));
  ASSERT_EQ(rows.size(), 60u);
  int right = 0;
  for (const auto& r : rows) {
    ASSERT_EQ(r.v.size(), 4u);
    const int k = r.label == "a" ? 0 : 1;
    right += dist2(r.v, k) < dist2(r.v, 1 - k) ? 1 : 0;
  }
  EXPECT_GE(right, 57) << "samples nearest to their own label's mean";
  // Its own format by name, and one it does not write is refused with the ones it does.
  g.format = "csv";
  g.n = 2;
  EXPECT_EQ(cvae::generate(g).count, 4);
  g.format = "png";
  EXPECT_CONTAINS(cvae::testing::error_of<cvae::ConfigError>([&] { cvae::generate(g); }),
                  "expected csv");
}

TEST_F(ToyModality, EvaluatesWithAJudgeAndTransfersAndInterpolates) {
  cvae::ClassifierTrainRequest c;
  c.data.path = file("toy.vec");
  c.out = file("judge.cvae");
  c.threads = 1;
  c.quiet = true;
  cvae::train_classifier(c);

  cvae::EvalRequest e;
  e.model = file("toy.cvae");
  e.data.path = file("toy.vec");
  e.judge = file("judge.cvae");
  e.samples_per_label = 50;
  e.transfer_examples = 50;
  e.threads = 1;
  auto r = cvae::evaluate(e);
  EXPECT_EQ(r.modality, "toy");
  EXPECT_EQ(r.iw_samples, 50);  // the toy's default
  EXPECT_TRUE(std::isfinite(r.neg_elbo));
  ASSERT_TRUE(r.has_fidelity);
  EXPECT_GE(r.fidelity.cond_accuracy, 0.9);
  EXPECT_GE(r.fidelity.transfer_accuracy, 0.9);
  // The report for a person, by the interface's default (per-label figures the
  // toy leaves out read as nan).
  const std::string report = cvae::fidelity_report(r, e);
  EXPECT_CONTAINS(report, "judged by " + file("judge.cvae"));
  EXPECT_CONTAINS(report, "transfer accuracy");

  cvae::TransferRequest t;
  t.model = file("toy.cvae");
  t.data.path = file("toy.vec");
  t.indices = {0, 1};
  t.to_labels = {"all"};
  t.out = file("transfer.csv");
  cvae::transfer(t);
  auto moved = read_rows(file("transfer.csv"));
  ASSERT_EQ(moved.size(), 4u);  // 2 examples x 2 labels, source-major
  for (const auto& m : moved) {
    const int k = m.label == "a" ? 0 : 1;
    EXPECT_LT(dist2(m.v, k), dist2(m.v, 1 - k)) << "transferred to " << m.label;
  }

  cvae::InterpolateRequest i;
  i.model = file("toy.cvae");
  i.label = "b";
  i.steps = 5;
  i.out = file("interp.csv");
  cvae::interpolate(i);
  EXPECT_EQ(read_rows(file("interp.csv")).size(), 5u);
}

}  // namespace
