// models/model_file.cpp: a model file round-trips its config, state, weights
// and mixture; a truncated file or weights of another shape are a
// CheckpointError naming the file; the weights are stored once (raw float32
// for the torch-free sampler's models, a torch archive for the rest) and
// version 1 files, which held both, still load; files from before an option
// existed keep the behaviour they were trained with.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "core/container.h"
#include "cvae/errors.h"
#include "lite/raw_tensors.h"
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

void expect_same_parameters(models::CVAEImpl& a, models::CVAEImpl& b) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

TEST(ModelFile, TheSamplersModelsStoreTheirWeightsOnceAsRawFloat32) {
  testing::TempDir dir("cvae-model-file");
  torch::manual_seed(6);
  models::CVAE model(testing::toy_model_config({1, 4, 4}, 3));  // MLP, Bernoulli, standard prior
  const std::string path = dir.file("m.cvae");
  models::save_model_file(path, file_of(*model));
  const core::Container c = core::read_container(path);
  EXPECT_EQ(c.version, 2u);
  EXPECT_EQ(c.blobs.count("weights"), 0u);
  ASSERT_EQ(c.blobs.count("inference/weights_f32"), 1u);
  // Every parameter is in it, by its module path.
  const auto raw = lite::decode_raw_tensors(c.blobs.at("inference/weights_f32"), "m");
  EXPECT_EQ(raw.size(), model->named_parameters().size() + model->named_buffers().size());
  models::ModelFile back;
  models::CVAE loaded = models::load_model(path, &back);
  expect_same_parameters(*model, *loaded);
  EXPECT_EQ(back.format_version, 2u);
  // Saved again as loaded (fit-sampler, resume): the same bytes.
  models::save_model_file(dir.file("again.cvae"), back);
  EXPECT_EQ(core::read_container(dir.file("again.cvae")).blobs, c.blobs);
}

TEST(ModelFile, OtherModelsStoreATorchArchiveOnly) {
  testing::TempDir dir("cvae-model-file");
  ModelConfig cfg = testing::toy_model_config({1, 4, 4}, 3);
  cfg.likelihood = "gaussian";  // the torch-free sampler decodes Bernoulli only
  models::CVAE model(cfg);
  models::save_model_file(dir.file("m.cvae"), file_of(*model));
  const core::Container c = core::read_container(dir.file("m.cvae"));
  EXPECT_EQ(c.blobs.count("weights"), 1u);
  EXPECT_EQ(c.blobs.count("inference/weights_f32"), 0u);
  expect_same_parameters(*model, *models::load_model(dir.file("m.cvae")));
}

TEST(ModelFile, VersionOneFilesWithBothBlobsReadTheArchive) {
  testing::TempDir dir("cvae-model-file");
  torch::manual_seed(7);
  models::CVAE model(testing::toy_model_config({1, 4, 4}, 3));
  models::CVAE stale(testing::toy_model_config({1, 4, 4}, 3));  // other values, same shapes
  models::save_model_file(dir.file("m.cvae"), file_of(*stale));
  core::Container c = core::read_container(dir.file("m.cvae"));
  c.version = 1;  // as cvae wrote MLP image models before: the archive, and raw beside it
  c.blobs["weights"] = models::module_to_bytes(*model);
  core::write_container(dir.file("v1.cvae"), c);
  models::ModelFile back;
  models::CVAE loaded = models::load_model(dir.file("v1.cvae"), &back);
  expect_same_parameters(*model, *loaded);
  EXPECT_EQ(back.format_version, 1u);
}

TEST(ModelFile, RawWeightsThatAreMissingOneOrOfAnotherShapeAreNamed) {
  testing::TempDir dir("cvae-model-file");
  models::CVAE model(testing::toy_model_config({1, 4, 4}, 3));
  const std::string path = dir.file("m.cvae");
  models::save_model_file(path, file_of(*model));
  auto tensors =
      lite::decode_raw_tensors(core::read_container(path).blobs.at("inference/weights_f32"), "m");
  ASSERT_FALSE(tensors.empty());
  const std::string first = tensors.front().name;
  auto with = [&](std::vector<lite::RawTensor> t) {
    core::Container c = core::read_container(path);
    c.blobs["inference/weights_f32"] = lite::encode_raw_tensors(t);
    core::write_container(dir.file("bad.cvae"), c);
    return error_of<CheckpointError>([&] { models::load_model(dir.file("bad.cvae")); });
  };
  auto missing = tensors;
  missing.erase(missing.begin());
  std::string msg = with(missing);
  EXPECT_NE(msg.find("bad.cvae"), std::string::npos) << msg;
  EXPECT_NE(msg.find("weight '" + first + "' is missing"), std::string::npos) << msg;
  auto reshaped = tensors;
  reshaped.front().shape = {static_cast<int64_t>(reshaped.front().values.size())};
  msg = with(reshaped);
  EXPECT_NE(msg.find("weight '" + first + "' has shape"), std::string::npos) << msg;
  auto cut = core::read_container(path);
  cut.blobs["inference/weights_f32"].resize(20);
  core::write_container(dir.file("cut.cvae"), cut);
  msg = error_of<CheckpointError>([&] { models::load_model(dir.file("cut.cvae")); });
  EXPECT_NE(msg.find("cut.cvae"), std::string::npos) << msg;
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
