// models/model_file.cpp: a model file round-trips its config, state, weights
// and mixture; a truncated file or weights of another shape are a
// CheckpointError naming the file; files from before an option existed keep
// the behaviour they were trained with.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "cvae/errors.h"
#include "models/cvae_model.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

models::ModelFile file_of(models::CVAEImpl& model) {
  models::ModelFile f;
  f.model = model.config();
  f.state.epochs_done = 3;
  f.state.step = 42;
  f.state.best_epoch = 2;
  f.state.data_source = "toy";
  f.weights = models::module_to_bytes(model);
  f.latent_mixture = "";
  return f;
}

TEST(ModelFile, RoundTripsConfigStateAndWeights) {
  testing::TempDir dir("cvae-model-file");
  torch::manual_seed(5);
  models::CVAE model(testing::toy_model_config({1, 4, 4}, 3));
  models::save_model_file(dir.file("m.cvae"), file_of(*model));
  models::ModelFile back;
  models::CVAE loaded = models::load_model(dir.file("m.cvae"), &back);
  EXPECT_EQ(back.state.epochs_done, 3);
  EXPECT_EQ(back.state.step, 42);
  EXPECT_EQ(back.state.best_epoch, 2);
  EXPECT_EQ(back.state.data_source, "toy");
  EXPECT_EQ(back.model.modality, "image");  // stored resolved
  EXPECT_EQ(back.model.latent, model->config().latent);
  EXPECT_FALSE(back.resume.has_value());
  auto a = model->named_parameters();
  auto b = loaded->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  EXPECT_FALSE(loaded->is_training());  // loaded for inference
}

TEST(ModelFile, TruncatedFileAndForeignWeightsNameTheFile) {
  testing::TempDir dir("cvae-model-file");
  models::CVAE model(testing::toy_model_config({1, 4, 4}, 3));
  const std::string path = dir.file("m.cvae");
  models::save_model_file(path, file_of(*model));
  const std::string bytes = testing::read_bytes(path);
  testing::write_bytes(dir.file("cut.cvae"), bytes.substr(0, bytes.size() / 2));
  std::string msg =
      error_of<CheckpointError>([&] { models::load_model_file(dir.file("cut.cvae")); });
  EXPECT_NE(msg.find("cut.cvae"), std::string::npos) << msg;
  // Weights of a model with another latent size under this file's config.
  ModelConfig other = testing::toy_model_config({1, 4, 4}, 3);
  other.latent = model->config().latent + 1;
  models::CVAE wrong(other);
  models::ModelFile f = file_of(*model);
  f.weights = models::module_to_bytes(*wrong);
  models::save_model_file(dir.file("wrong.cvae"), f);
  msg = error_of<CheckpointError>([&] { models::load_model(dir.file("wrong.cvae")); });
  EXPECT_NE(msg.find("wrong.cvae"), std::string::npos) << msg;
}

TEST(ModelConfigJson, FilesFromBeforeLearnedPriorsKeepTheStandardPrior) {
  ModelConfig cfg = testing::toy_model_config({1, 4, 4}, 2);
  cfg.prior = "learned";
  nlohmann::json j = cfg;
  EXPECT_EQ(j.get<ModelConfig>().prior, "learned");
  j.erase("prior");  // as written by cvae before this option existed
  EXPECT_EQ(j.get<ModelConfig>().prior, "standard");
}

}  // namespace
}  // namespace cvae
