// eval/classifier.cpp: the judge's file round trip (config, weights, accuracy,
// source), and CheckpointError naming the file for a missing, truncated or foreign
// file, an incomplete header, an invalid config, missing or mismatched weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/container.h"
#include "cvae/errors.h"
#include "eval/classifier.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

eval::ClassifierConfig judge_config() {
  eval::ClassifierConfig cfg;
  cfg.input_shape = {1, 8, 8};
  cfg.condition.name = "digit";
  cfg.condition.labels = {"zero", "one", "two"};
  cfg.channels = {4, 8};
  cfg.hidden = 16;
  cfg.dropout = 0.25;
  return cfg;
}

// A judge with fresh weights, saved to path; returns the network.
eval::Classifier save_judge(const std::string& path, const eval::ClassifierConfig& cfg) {
  torch::manual_seed(21);
  eval::Classifier net(cfg);
  eval::ClassifierFile f;
  f.config = net->config();
  f.weights = models::module_to_bytes(*net);
  f.test_accuracy = 0.875;
  f.data_source = "toy/train-images-idx3-ubyte";
  eval::save_classifier(path, f);
  return net;
}

// A container written as a classifier file with the given header changes.
void write_classifier_like(const std::string& path, const nlohmann::json& classifier,
                           bool with_weights) {
  core::Container c;
  c.header = {{"program", "cvae"}, {"kind", "classifier"}};
  if (!classifier.is_null()) c.header["classifier"] = classifier;
  if (with_weights) c.blobs["weights"] = "not a torch archive";
  core::write_container(path, c);
}

TEST(ClassifierFile, SaveLoadRoundTripKeepsConfigWeightsAndFigures) {
  testing::TempDir dir("cvae-judge-file");
  const std::string path = dir.file("judge.cls");
  auto net = save_judge(path, judge_config());

  auto f = eval::load_classifier_file(path);
  EXPECT_EQ(f.config.modality, "image");
  EXPECT_EQ(f.config.input_shape, (std::vector<int64_t>{1, 8, 8}));
  EXPECT_EQ(f.config.condition.name, "digit");
  EXPECT_EQ(f.config.condition.labels, (std::vector<std::string>{"zero", "one", "two"}));
  EXPECT_EQ(f.config.channels, (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(f.config.hidden, 16);
  EXPECT_EQ(f.config.dropout, 0.25);  // stored as JSON text and read back exactly
  EXPECT_EQ(f.test_accuracy, 0.875);
  EXPECT_EQ(f.data_source, "toy/train-images-idx3-ubyte");
  EXPECT_FALSE(f.weights.empty());

  eval::ClassifierFile info;
  auto loaded = eval::load_classifier(path, &info);
  EXPECT_FALSE(loaded->is_training()) << "loaded for inference";
  EXPECT_EQ(info.weights, f.weights);
  EXPECT_EQ(info.config.condition.labels, f.config.condition.labels);
  auto a = net->named_parameters();
  auto b = loaded->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  net->eval();
  auto x = torch::rand({4, 1, 8, 8});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(net->forward(x), loaded->forward(x)));
}

TEST(ClassifierFile, TruncatedMissingOrForeignFilesNameTheFile) {
  testing::TempDir dir("cvae-judge-bad");
  const std::string good = dir.file("judge.cls");
  save_judge(good, judge_config());
  const std::string bytes = testing::read_bytes(good);
  ASSERT_GT(bytes.size(), 64u);

  const std::string cut = dir.file("cut.cls");
  testing::write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier_file(cut); }), cut);
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(cut); }), cut);

  const std::string missing = dir.file("missing.cls");
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(missing); }), missing);

  const std::string junk = dir.file("junk.cls");
  testing::write_bytes(junk, "PK\x03\x04 this is a zip, not a classifier");
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(junk); }), junk);

  // A model file is a container too, but not a classifier's.
  const std::string model = dir.file("model.cvae");
  core::Container mc;
  mc.header = {{"program", "cvae"}, {"kind", "model"}};
  mc.blobs["weights"] = "x";
  core::write_container(model, mc);
  const std::string msg = error_of<CheckpointError>([&] { eval::load_classifier(model); });
  EXPECT_CONTAINS(msg, model);
  EXPECT_CONTAINS(msg, "not a cvae classifier file");
}

TEST(ClassifierFile, IncompleteOrInvalidContentsNameTheFile) {
  testing::TempDir dir("cvae-judge-content");
  nlohmann::json full = {
      {"input_shape", {1, 8, 8}},
      {"condition", {{"name", "label"}, {"kind", "categorical"}, {"labels", {"a", "b"}}}},
      {"channels", {4}},
      {"hidden", 8},
      {"dropout", 0.0}};

  const std::string no_config = dir.file("no_config.cls");
  write_classifier_like(no_config, nullptr, true);
  std::string msg = error_of<CheckpointError>([&] { eval::load_classifier_file(no_config); });
  EXPECT_CONTAINS(msg, no_config);
  EXPECT_CONTAINS(msg, "incomplete header");

  auto partial = full;
  partial.erase("hidden");
  const std::string no_hidden = dir.file("no_hidden.cls");
  write_classifier_like(no_hidden, partial, true);
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier_file(no_hidden); }),
                  "incomplete header");

  auto one_label = full;
  one_label["condition"]["labels"] = {"a"};
  const std::string invalid = dir.file("invalid.cls");
  write_classifier_like(invalid, one_label, true);
  msg = error_of<CheckpointError>([&] { eval::load_classifier_file(invalid); });
  EXPECT_CONTAINS(msg, invalid);
  EXPECT_CONTAINS(msg, "invalid config");

  const std::string no_weights = dir.file("no_weights.cls");
  write_classifier_like(no_weights, full, false);
  msg = error_of<CheckpointError>([&] { eval::load_classifier_file(no_weights); });
  EXPECT_CONTAINS(msg, no_weights);
  EXPECT_CONTAINS(msg, "no weights");

  // Weights that are not a torch archive of this network's parameters.
  const std::string bad_weights = dir.file("bad_weights.cls");
  write_classifier_like(bad_weights, full, true);
  EXPECT_NO_THROW(eval::load_classifier_file(bad_weights));  // the header is fine
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(bad_weights); }),
                  bad_weights);
}

TEST(ClassifierFile, WeightsOfAnotherShapeAreRefused) {
  testing::TempDir dir("cvae-judge-shape");
  const std::string small = dir.file("small.cls");
  auto cfg = judge_config();
  save_judge(small, cfg);
  // The same file with a wider hidden layer in its config: the stored weights no longer fit.
  auto f = eval::load_classifier_file(small);
  f.config.hidden = 32;
  const std::string wide = dir.file("wide.cls");
  eval::save_classifier(wide, f);
  EXPECT_CONTAINS(error_of<CheckpointError>([&] { eval::load_classifier(wide); }), wide);
}

}  // namespace
}  // namespace cvae
