// modalities/text/rnn.cpp: the GRU encoder and decoder through the core: the
// config resolves to rnn + categorical, gradients reach every parameter and
// match finite differences, teacher forcing equals step-by-step decoding, word
// dropout hides the previous words.
#include <gtest/gtest.h>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/text/rnn.h"
#include "models/backbone.h"
#include "models/cvae_model.h"
#include "support/text_fixtures.h"

namespace cvae {
namespace {

using testing::tiny_conditions;
using testing::tiny_text_config;
using testing::tiny_tokens;

using cvae::ModelConfig;

using cvae::models::CVAE;

TEST(TextModel, ConfigResolvesRnnAndCategoricalAndRejectsMismatches) {
  auto cfg = tiny_text_config();
  const auto resolved = cvae::models::resolve_model_config(cfg);
  EXPECT_EQ(resolved.modality, "text");
  EXPECT_EQ(resolved.arch, "rnn");
  EXPECT_EQ(resolved.likelihood, "categorical");
  cfg.arch = "conv";
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.likelihood = "bernoulli";
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.hidden = {8, 8};
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.word_dropout = 1.5;
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
}

TEST(TextModel, GradientsReachEveryParameter) {
  torch::manual_seed(1);
  auto cfg = tiny_text_config(0.25);
  CVAE model(cfg);
  model->train();
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg);
  auto terms = cvae::models::elbo_loss(*model, x, c, torch::randn({2, 3}), 1.0);
  terms.loss.backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

// Finite differences in double precision against autograd, through both GRUs.
TEST(TextModel, GradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  auto cfg = tiny_text_config(0.0);
  CVAE model(cfg);
  model->to(torch::kFloat64);
  model->eval();
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg).to(torch::kFloat64);
  auto eps = torch::randn({2, 3}, torch::kFloat64);
  auto loss = [&] { return cvae::models::elbo_loss(*model, x, c, eps, 1.0).loss; };
  model->zero_grad();
  loss().backward();
  int checked = 0;
  for (const auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    if (name.find("gru") == std::string::npos && name.find("embed") == std::string::npos &&
        name.find("out") == std::string::npos && name.find("init") == std::string::npos)
      continue;
    auto flat = p.value().view({-1});
    auto grad = p.value().grad().view({-1});
    for (int64_t i : {int64_t{0}, flat.size(0) / 2, flat.size(0) - 1}) {
      torch::NoGradGuard no_grad;
      const double h = 1e-6, orig = flat[i].item<double>();
      flat[i] = orig + h;
      const double up = loss().item<double>();
      flat[i] = orig - h;
      const double down = loss().item<double>();
      flat[i] = orig;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 10);
}

// Teacher forcing and step-by-step decoding are the same function of the previous tokens.
TEST(TextModel, TeacherForcingMatchesStepByStep) {
  torch::manual_seed(4);
  auto cfg = tiny_text_config(0.5);
  CVAE model(cfg);
  model->eval();  // no word dropout
  torch::NoGradGuard no_grad;
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg);
  auto z = torch::randn({2, 3});
  auto forced = model->decode(z, c, x).view({2, 6, 12});
  auto* dec = &cvae::modalities::text::recurrent_decoder(*model);
  auto zc = torch::cat({z, c}, 1);
  auto h = dec->initial_state(zc);
  auto prev = torch::full({2}, cvae::modalities::text::RecurrentDecoder::kBos, torch::kInt64);
  for (int64_t t = 0; t < 6; ++t) {
    auto logits = dec->step(prev, h, zc);
    EXPECT_TRUE(torch::allclose(logits, forced.select(1, t), 1e-5, 1e-5)) << "position " << t;
    prev = x.select(1, t);
  }
}

// With word dropout 1 in training, the decoder sees only <bos> and <unk>: the
// logits do not depend on the words; in eval mode they do.
TEST(TextModel, WordDropoutHidesThePreviousWords) {
  torch::manual_seed(5);
  auto cfg = tiny_text_config(1.0);
  CVAE model(cfg);
  torch::NoGradGuard no_grad;
  auto x1 = torch::tensor({{4, 5, 6, 7, 8, 3}}, torch::kInt64);
  auto x2 = torch::tensor({{9, 10, 11, 4, 5, 3}}, torch::kInt64);
  auto c = cvae::data::encode_conditions(cfg.conditions, torch::tensor({{0}}, torch::kInt64));
  auto z = torch::randn({1, 3});
  model->train();
  EXPECT_TRUE(torch::allclose(model->decode(z, c, x1), model->decode(z, c, x2)));
  model->eval();
  EXPECT_FALSE(torch::allclose(model->decode(z, c, x1), model->decode(z, c, x2)));
}

}  // namespace
}  // namespace cvae
