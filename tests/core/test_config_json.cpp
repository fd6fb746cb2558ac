// The JSON form of the configs (src/core/config_json.cpp), as model files store
// it: every field round-trips under its documented key, and keys missing from
// older files keep their defaults (with the two documented exceptions).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "cvae/config.h"

namespace cvae {
namespace {

using nlohmann::json;

std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// Every field away from its default.
ModelConfig unusual_model() {
  ModelConfig m;
  m.modality = "text";
  m.arch = "rnn";
  m.likelihood = "categorical";
  m.prior = "standard";
  m.input_shape = {12};
  m.conditions = {{"accent", "categorical", {"scottish", "welsh"}},
                  {"word", "categorical", {"caf\xC3\xA9", "seven"}}};
  m.hidden = {48, 24};
  m.vocabulary = {"<pad>", "<unk>", "<bos>", "<eos>", "hello"};
  m.embedding = 7;
  m.word_dropout = 0.25;
  m.channels = {8, 16, 32};
  m.latent = 5;
  m.classifier = true;
  m.logvar_min = -6.5;
  m.logvar_max = 3.25;
  return m;
}

TEST(ConfigJson, ModelConfigKeysAreTheFileFormats) {
  const json j = unusual_model();
  EXPECT_EQ(keys(j), (std::set<std::string>{"modality", "arch", "likelihood", "prior", "channels",
                                            "classifier", "input_shape", "conditions", "hidden",
                                            "latent", "vocabulary", "embedding", "word_dropout",
                                            "logvar_min", "logvar_max"}));
  EXPECT_EQ(j.at("arch"), "rnn");
  EXPECT_EQ(j.at("hidden"), json::array({48, 24}));
  EXPECT_EQ(j.at("logvar_max"), 3.25);
  EXPECT_EQ(
      j.at("conditions").at(1),
      json({{"name", "word"}, {"kind", "categorical"}, {"labels", {"caf\xC3\xA9", "seven"}}}));
}

TEST(ConfigJson, ModelConfigRoundTripsEveryField) {
  const ModelConfig a = unusual_model();
  // Through text, as a model file holds it.
  const ModelConfig b = json::parse(json(a).dump()).get<ModelConfig>();
  EXPECT_EQ(b.modality, "text");
  EXPECT_EQ(b.arch, "rnn");
  EXPECT_EQ(b.likelihood, "categorical");
  EXPECT_EQ(b.prior, "standard");
  EXPECT_EQ(b.input_shape, (std::vector<int64_t>{12}));
  ASSERT_EQ(b.conditions.size(), 2u);
  EXPECT_EQ(b.conditions[0].name, "accent");
  EXPECT_EQ(b.conditions[1].labels, (std::vector<std::string>{"caf\xC3\xA9", "seven"}));
  EXPECT_EQ(b.hidden, (std::vector<int64_t>{48, 24}));
  EXPECT_EQ(b.vocabulary, a.vocabulary);
  EXPECT_EQ(b.embedding, 7);
  EXPECT_EQ(b.word_dropout, 0.25);
  EXPECT_EQ(b.channels, (std::vector<int64_t>{8, 16, 32}));
  EXPECT_EQ(b.latent, 5);
  EXPECT_TRUE(b.classifier);
  EXPECT_EQ(b.logvar_min, -6.5);
  EXPECT_EQ(b.logvar_max, 3.25);
}

TEST(ConfigJson, OlderModelFilesKeepDefaultsAndMeanBernoulliStandard) {
  // A file written before modality, likelihood and prior were stored.
  const json old = {{"input_shape", {1, 28, 28}},
                    {"conditions", {{{"name", "label"}, {"labels", {"0", "1"}}}}},
                    {"hidden", {512}},
                    {"latent", 8}};
  const ModelConfig m = old.get<ModelConfig>();
  const ModelConfig defaults;
  EXPECT_EQ(m.modality, "");  // inferred when used
  EXPECT_EQ(m.likelihood, "bernoulli");
  EXPECT_EQ(m.prior, "standard");
  EXPECT_NE(defaults.likelihood, "bernoulli");  // these two are not the struct's defaults
  EXPECT_NE(defaults.prior, "standard");
  EXPECT_EQ(m.arch, defaults.arch);
  EXPECT_EQ(m.channels, defaults.channels);
  EXPECT_EQ(m.embedding, defaults.embedding);
  EXPECT_EQ(m.word_dropout, defaults.word_dropout);
  EXPECT_EQ(m.logvar_min, defaults.logvar_min);
  EXPECT_EQ(m.logvar_max, defaults.logvar_max);
  EXPECT_FALSE(m.classifier);
  EXPECT_EQ(m.hidden, (std::vector<int64_t>{512}));
  EXPECT_EQ(m.latent, 8);
  ASSERT_EQ(m.conditions.size(), 1u);
  EXPECT_EQ(m.conditions[0].kind, "categorical");  // a condition without a kind
  EXPECT_EQ(m.conditions[0].labels, (std::vector<std::string>{"0", "1"}));
}

TEST(ConfigJson, TrainConfigRoundTripsEveryField) {
  TrainConfig a;
  a.epochs = 3;
  a.batch_size = 7;
  a.lr = 0.0125;
  a.beta = 2.5;
  a.kl_warmup = 0;
  a.kl_cycles = 4;
  a.kl_cycle_ratio = 0.75;
  a.free_bits = 0.5;
  a.gmm_components = 9;
  a.labelled = 100;
  a.ssl_alpha = 0.3;
  a.grad_clip = 5;
  a.val_fraction = 0.2;
  a.save_every = 50;
  a.seed = std::numeric_limits<uint64_t>::max();  // above int64: stored unsigned
  a.threads = 3;
  const json j = a;
  EXPECT_EQ(keys(j), (std::set<std::string>{"epochs", "batch_size", "lr", "beta", "kl_warmup",
                                            "kl_cycles", "kl_cycle_ratio", "free_bits",
                                            "gmm_components", "labelled", "ssl_alpha", "grad_clip",
                                            "val_fraction", "save_every", "seed", "threads"}));
  const TrainConfig b = json::parse(j.dump()).get<TrainConfig>();
  EXPECT_EQ(b.epochs, 3);
  EXPECT_EQ(b.batch_size, 7);
  EXPECT_EQ(b.lr, 0.0125);
  EXPECT_EQ(b.beta, 2.5);
  EXPECT_EQ(b.kl_warmup, 0);
  EXPECT_EQ(b.kl_cycles, 4);
  EXPECT_EQ(b.kl_cycle_ratio, 0.75);
  EXPECT_EQ(b.free_bits, 0.5);
  EXPECT_EQ(b.gmm_components, 9);
  EXPECT_EQ(b.labelled, 100);
  EXPECT_EQ(b.ssl_alpha, 0.3);
  EXPECT_EQ(b.grad_clip, 5);
  EXPECT_EQ(b.val_fraction, 0.2);
  EXPECT_EQ(b.save_every, 50);
  EXPECT_EQ(b.seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(b.threads, 3);
}

TEST(ConfigJson, MissingTrainKeysKeepWhatWasThere) {
  TrainConfig t;
  t.epochs = 11;
  t.seed = 99;
  json({{"batch_size", 64}}).get_to(t);
  EXPECT_EQ(t.batch_size, 64);
  EXPECT_EQ(t.epochs, 11);
  EXPECT_EQ(t.seed, 99u);
  EXPECT_EQ(t.lr, TrainConfig{}.lr);
}

TEST(ConfigJson, WrongTypesAreJsonErrors) {
  // model_header.cpp turns these into CheckpointErrors naming the file.
  EXPECT_THROW(json({{"latent", "sixteen"}}).get<ModelConfig>(), json::type_error);
  EXPECT_THROW(json({{"hidden", 256}}).get<ModelConfig>(), json::type_error);
  EXPECT_THROW(json({{"conditions", {{{"labels", "abc"}}}}}).get<ModelConfig>(), json::type_error);
  EXPECT_THROW(json({{"epochs", {1, 2}}}).get<TrainConfig>(), json::type_error);
}

}  // namespace
}  // namespace cvae
