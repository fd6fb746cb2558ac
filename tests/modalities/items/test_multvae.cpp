// modalities/items/multvae.cpp: the Mult-VAE backbone: its parameter count,
// the condition's mask on the logits, and input dropout in training only.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cvae/config.h"
#include "cvae/errors.h"
#include "modalities/items/lite/catalogue.h"
#include "modalities/items/multvae.h"
#include "modalities/modality.h"
#include "models/cvae_model.h"

namespace cvae::modalities::items {
namespace {

ModelConfig tiny_config() {
  Catalogue c;
  c.ids = {1, 2, 3, 4, 5};
  c.titles = {"a", "b", "c", "d", "e"};
  c.genres = {{"A"}, {"A", "B"}, {"B"}, {}, {"B"}};
  ModelConfig cfg;
  cfg.modality = kName;
  cfg.input_shape = {5};
  cfg.vocabulary = catalogue_entries(c);
  cfg.conditions = {ConditionSpec{kGenreCondition, "categorical", genre_labels(c)}};
  cfg.hidden = {6};
  cfg.latent = 3;
  cfg.prior = "standard";
  return cfg;
}

TEST(ItemsMultVae, CountsItsParametersAndMasksByGenre) {
  register_builtins();
  const ModelConfig cfg = tiny_config();
  EXPECT_EQ(cfg.conditions[0].labels, (std::vector<std::string>{"any", "A", "B"}));
  models::CVAE model(cfg);
  EXPECT_EQ(model->config().arch, "multvae");
  EXPECT_EQ(model->config().likelihood, "multinomial");
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  // Encoder (5 + 3) -> 6 -> 2 x 3, decoder (3 + 3) -> 6 -> 5, with biases.
  EXPECT_EQ(n, (8 + 1) * 6 + 2 * (6 + 1) * 3 + (6 + 1) * 6 + (6 + 1) * 5);
  EXPECT_DOUBLE_EQ(models::backbone("multvae").parameters(model->config(), 1),
                   static_cast<double>(n));
  model->eval();
  torch::NoGradGuard no_grad;
  auto z = torch::zeros({3, 3});
  auto c = torch::eye(3);  // any, A, B
  auto logits = model->decode(z, c, torch::Tensor());
  auto ruled_out = torch::isinf(logits);
  // any: nothing ruled out; A: items 0, 1 allowed; B: items 1, 2, 4.
  EXPECT_EQ(ruled_out[0].sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(ruled_out[1], torch::tensor({false, false, true, true, true})));
  EXPECT_TRUE(torch::equal(ruled_out[2], torch::tensor({true, false, false, true, false})));
  EXPECT_TRUE(torch::isfinite(logits.masked_fill(ruled_out, 0)).all().item<bool>());
}

TEST(ItemsMultVae, DropsInputOnlyInTrainingAndIgnoresTheScaleOfTheInput) {
  register_builtins();
  models::CVAE model(tiny_config());
  auto x = torch::tensor({{1.0f, 0.0f, 1.0f, 1.0f, 0.0f}});
  auto c = torch::tensor({{1.0f, 0.0f, 0.0f}});
  model->eval();
  auto [mu, logvar] = model->encode(x, c);
  // L2-normalised input: 3 x the counts encode alike.
  auto mu3 = model->encode(3 * x, c).first;
  EXPECT_TRUE(torch::allclose(mu, mu3, 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(mu, model->encode(x, c).first));  // eval: deterministic
  model->train();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  model->set_generator(&gen);
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i)
    differs = !torch::allclose(model->encode(x, c).first, mu, 1e-6, 1e-6);
  EXPECT_TRUE(differs) << "input dropout never changed the encoding in training";
  model->set_generator(nullptr);
}

TEST(ItemsMultVae, RejectsConfigsThatDoNotFit) {
  register_builtins();
  ModelConfig cfg = tiny_config();
  cfg.vocabulary.pop_back();
  EXPECT_THROW(models::CVAE{cfg}, ConfigError);
  cfg = tiny_config();
  cfg.conditions[0].labels[0] = "A0";
  EXPECT_THROW(models::CVAE{cfg}, ConfigError);
}

}  // namespace
}  // namespace cvae::modalities::items
