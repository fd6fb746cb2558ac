// The fused flat Adam takes the same steps as libtorch's torch::optim::Adam.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/cvae_model.h"
#include "train/flat_adam.h"

namespace cvae {
namespace {

ModelConfig small_config() {
  ModelConfig cfg;
  cfg.arch = "mlp";
  cfg.prior = "standard";
  cfg.input_shape = {1, 4, 4};
  cfg.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  cfg.hidden = {16, 8};
  cfg.latent = 3;
  return cfg;
}

double max_rel_diff(models::CVAEImpl& a, models::CVAEImpl& b) {
  double worst = 0;
  auto pb = b.named_parameters();
  for (const auto& p : a.named_parameters()) {
    auto q = pb[p.key()];
    const double d = ((p.value() - q).abs() / (q.abs() + 1e-3)).max().item<double>();
    worst = std::max(worst, d);
  }
  return worst;
}

void run(double clip) {
  auto cfg = small_config();
  torch::manual_seed(1);
  models::CVAE reference(cfg);
  torch::manual_seed(1);
  models::CVAE fused(cfg);
  ASSERT_EQ(max_rel_diff(*reference, *fused), 0.0);
  torch::optim::Adam adam(reference->parameters(), torch::optim::AdamOptions(3e-3));
  optim::FlatAdam flat(*fused, 3e-3);
  EXPECT_EQ(flat.numel(), [&] {
    int64_t n = 0;
    for (const auto& p : fused->parameters()) n += p.numel();
    return n;
  }());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  for (int step = 0; step < 60; ++step) {
    auto x = torch::rand({8, 1, 4, 4}, gen);
    auto y = torch::randint(0, 3, {8, 1}, gen, torch::kInt64);
    auto c = data::encode_conditions(cfg.conditions, y);
    auto eps = torch::randn({8, 3}, gen);

    adam.zero_grad();
    models::elbo_loss(*reference, x, c, eps, 1.0).loss.backward();

    // The fused optimizer gets the very same gradients (written into its flat
    // gradient buffer through the parameters' .grad views), so any difference
    // comes from the optimizer alone and does not feed back through the loss.
    flat.zero_grad();
    auto ref = reference->named_parameters();
    for (auto& p : fused->named_parameters()) p.value().mutable_grad().copy_(ref[p.key()].grad());
    const double norm_ref = torch::nn::utils::clip_grad_norm_(reference->parameters(), clip);
    adam.step();
    const double norm = flat.grad_norm();
    EXPECT_NEAR(norm, norm_ref, 1e-5 * norm_ref) << "step " << step;
    flat.step(std::min(1.0, clip / (norm + 1e-6)));
    // Equal up to float32 rounding in the last bits (e.g. a division by a scalar
    // done as a multiplication by its reciprocal).
    ASSERT_LE(max_rel_diff(*reference, *fused), 1e-5) << "step " << step;
  }
  EXPECT_EQ(flat.steps(), 60);
  // The parameters moved: the test compares real updates.
  torch::manual_seed(1);
  models::CVAE initial(cfg);
  EXPECT_GT(max_rel_diff(*initial, *fused), 1e-2);
}

TEST(FlatAdam, MatchesTorchAdamStepForStep) { run(1e9); }

TEST(FlatAdam, MatchesTorchAdamWithGradientClipping) { run(0.5); }

TEST(FlatAdam, StateRoundTripsAndRejectsOtherSizes) {
  auto cfg = small_config();
  models::CVAE model(cfg);
  optim::FlatAdam flat(*model, 1e-3);
  auto x = torch::rand({4, 1, 4, 4});
  auto c = data::encode_conditions(cfg.conditions, torch::zeros({4, 1}, torch::kInt64));
  models::elbo_loss(*model, x, c, torch::zeros({4, 3}), 1.0).loss.backward();
  flat.step();
  const std::string bytes = flat.state_bytes();
  models::CVAE other(cfg);
  optim::FlatAdam restored(*other, 1e-3);
  restored.load_state_bytes(bytes, "test");
  EXPECT_EQ(restored.state_bytes(), bytes);
  EXPECT_EQ(restored.steps(), 1);
  auto bigger = small_config();
  bigger.hidden = {32};
  models::CVAE big(bigger);
  optim::FlatAdam wrong(*big, 1e-3);
  EXPECT_THROW(wrong.load_state_bytes(bytes, "test"), CheckpointError);
}

}  // namespace
}  // namespace cvae
