// models/mlp.cpp and the weights contract (core/weight_names.h): the MLP model and the learned
// prior register exactly the parameters the table names, with the prior's
// width, so the fused training step and the torch-free sampler, which find
// them by these names, read the model's weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>

#include "core/weight_names.h"
#include "models/cvae_model.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

namespace w = weights;

std::set<std::string> names_of(models::CVAEImpl& m) {
  std::set<std::string> names;
  for (const auto& p : m.named_parameters()) names.insert(p.key());
  return names;
}

void add_linear(std::set<std::string>& names, const std::string& layer) {
  names.insert(layer + ".weight");
  names.insert(layer + ".bias");
}

TEST(WeightNames, MlpModelWithLearnedPriorHasExactlyTheTablesNames) {
  auto cfg = testing::toy_model_config({1, 6, 6}, 3, {16, 8}, 2);
  cfg.prior = "learned";
  models::CVAE model(cfg);
  std::set<std::string> expected;
  for (size_t i = 0; i < cfg.hidden.size(); ++i) {
    add_linear(expected, w::encoder_layer(i));
    add_linear(expected, w::decoder_layer(i));
  }
  add_linear(expected, w::encoder_mu_head());
  add_linear(expected, w::encoder_logvar_head());
  add_linear(expected, w::decoder_out());
  add_linear(expected, w::prior_hidden());
  add_linear(expected, w::prior_mu_head());
  add_linear(expected, w::prior_logvar_head());
  EXPECT_EQ(names_of(*model), expected);
  auto params = model->named_parameters();
  EXPECT_EQ(params[w::prior_hidden() + ".weight"].size(0), w::kPriorWidth);
  EXPECT_EQ(params[w::prior_mu_head() + ".weight"].size(1), w::kPriorWidth);
  // The decoder's layers are numbered from [z, c] towards the output: layer 0
  // takes Z + C inputs, the output layer gives the D pixels.
  EXPECT_EQ(params[w::decoder_layer(0) + ".weight"].size(1), cfg.latent + 3);
  EXPECT_EQ(params[w::decoder_out() + ".weight"].size(0), 36);
}

TEST(WeightNames, StandardPriorHasNoPriorNetwork) {
  auto cfg = testing::toy_model_config({1, 6, 6}, 3, {16}, 2);
  models::CVAE model(cfg);
  for (const auto& name : names_of(*model)) EXPECT_NE(name.rfind(w::kPrior, 0), 0u) << name;
}

}  // namespace
}  // namespace cvae
