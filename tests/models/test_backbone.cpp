// models/backbone.cpp: the two registries (backbones by --arch, model kinds by
// modality) and resolve_model_config, which fills in "auto" and checks that the
// arch and the likelihood fit the data.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "models/backbone.h"
#include "models/mlp.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(BackboneRegistry, HasTheBuiltInBackbonesAndListsThemForAnUnknownOne) {
  const auto names = models::backbone_names();
  for (const char* arch : {"mlp", "conv", "rnn", "multvae"}) EXPECT_TRUE(has(names, arch)) << arch;
  EXPECT_EQ(models::backbone("conv").name(), "conv");
  const std::string msg = error_of<ConfigError>([] { models::backbone("transformer"); });
  EXPECT_NE(msg.find("got 'transformer'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("auto, conv, mlp, multvae, rnn"), std::string::npos) << msg;
}

TEST(BackboneRegistry, RefusesASecondBackboneOfTheSameName) {
  const auto before = models::backbone_names();
  const std::string msg =
      error_of<ConfigError>([] { models::register_backbone(models::mlp_backbone()); });
  EXPECT_NE(msg.find("'mlp' is registered twice"), std::string::npos) << msg;
  EXPECT_EQ(models::backbone_names(), before);
}

TEST(ModelKindRegistry, NamedKindsAndTheKindOfFilesThatNameNone) {
  EXPECT_EQ(models::model_kind("image").modality(), "image");
  EXPECT_EQ(models::model_kind("text").modality(), "text");
  const std::string msg = error_of<ConfigError>([] { models::model_kind("speech"); });
  EXPECT_NE(msg.find("got 'speech'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("image"), std::string::npos) << msg;
  // Files written before the modality was stored: a vocabulary means text,
  // anything else images.
  EXPECT_EQ(models::model_kind_of("", {1, 28, 28}, {}).modality(), "image");
  EXPECT_EQ(models::model_kind_of("", {12}, {"<pad>", "<unk>", "<bos>", "<eos>", "a"}).modality(),
            "text");
  // A stored name wins over the shape.
  EXPECT_EQ(models::model_kind_of("image", {12}, {}).modality(), "image");
}

TEST(ResolveModelConfig, FillsInAutoAndStoresTheModality) {
  // 1x8x8 with two conv stages: conv (each stage halves the size, 8 >= 4).
  ModelConfig cfg = testing::toy_model_config({1, 8, 8}, 3);
  cfg.arch = "auto";
  cfg.likelihood = "auto";
  cfg.channels = {4, 8};
  const ModelConfig conv = models::resolve_model_config(cfg);
  EXPECT_EQ(conv.modality, "image");
  EXPECT_EQ(conv.arch, "conv");
  EXPECT_EQ(conv.likelihood, "bernoulli");
  // 1x2x2 is too small for two stages (needs 4x4): the MLP.
  cfg.input_shape = {1, 2, 2};
  EXPECT_EQ(models::resolve_model_config(cfg).arch, "mlp");
  // An explicit choice is kept.
  cfg.input_shape = {1, 8, 8};
  cfg.arch = "mlp";
  cfg.likelihood = "gaussian";
  const ModelConfig kept = models::resolve_model_config(cfg);
  EXPECT_EQ(kept.arch, "mlp");
  EXPECT_EQ(kept.likelihood, "gaussian");
}

TEST(ResolveModelConfig, RefusesAnArchOrLikelihoodThatDoesNotFitTheData) {
  ModelConfig cfg = testing::toy_model_config({1, 8, 8}, 3);
  cfg.arch = "rnn";
  std::string msg = error_of<ConfigError>([&] { models::resolve_model_config(cfg); });
  EXPECT_NE(msg.find("'rnn' does not fit image data"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mlp, conv"), std::string::npos) << msg;
  cfg.arch = "mlp";
  cfg.likelihood = "categorical";
  msg = error_of<ConfigError>([&] { models::resolve_model_config(cfg); });
  EXPECT_NE(msg.find("'categorical' does not fit image data"), std::string::npos) << msg;
  cfg.likelihood = "poisson";
  EXPECT_THROW(models::resolve_model_config(cfg), ConfigError);
  cfg.likelihood = "bernoulli";
  cfg.arch = "transformer";
  msg = error_of<ConfigError>([&] { models::resolve_model_config(cfg); });
  EXPECT_NE(msg.find("unknown architecture"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cvae
