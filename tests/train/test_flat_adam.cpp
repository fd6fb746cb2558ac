// The fused flat Adam takes the same steps as libtorch's torch::optim::Adam.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <map>
#include <string>

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

// The rounding budget of one Adam step in float32, per element: the update
//   p' = p - lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
// rounds p, the update and the moments it is made of a few times each (about 10
// roundings of relative size FLT_EPSILON / 2 in all, whatever the vector width or
// the order of the operations), so two correct implementations differ by at most
//   kRoundings * FLT_EPSILON * (|p| + |p' - p|)
// after one step from the same parameters and gradients. The moments carry a
// difference of the same size from step to step but do not grow it: each step
// keeps beta1 (beta2) of it. A wrong update (another learning rate, a missing
// bias correction, a wrong beta) moves p' by a share of the update far above that.
constexpr double kRoundings = 16;

// Worst ratio over all parameters of |fused - reference| to the rounding budget
// above, for one step taken from `before` (the reference's parameters before it).
double worst_budget_ratio(models::CVAEImpl& reference, models::CVAEImpl& fused,
                          const std::map<std::string, torch::Tensor>& before) {
  double worst = 0;
  auto pf = fused.named_parameters();
  for (const auto& p : reference.named_parameters()) {
    const auto r = p.value().to(torch::kFloat64);
    const auto f = pf[p.key()].to(torch::kFloat64);
    const auto b = before.at(p.key()).to(torch::kFloat64);
    const auto budget =
        kRoundings * std::numeric_limits<float>::epsilon() * (b.abs() + (r - b).abs()) + 1e-30;
    worst = std::max(worst, ((f - r).abs() / budget).max().item<double>());
  }
  return worst;
}

// Steps torch::optim::Adam and the fused FlatAdam (learning rate lr * lr_scale)
// side by side for 60 steps on the very same gradients, and returns the worst
// budget ratio of any step. Each step starts both from the reference's
// parameters, so a difference of one step does not feed into the next and the
// comparison holds on any CPU (the vector width changes the last bits, not more).
double run(double clip, double lr_scale = 1.0) {
  auto cfg = small_config();
  torch::manual_seed(1);
  models::CVAE reference(cfg);
  torch::manual_seed(1);
  models::CVAE fused(cfg);
  EXPECT_EQ(max_rel_diff(*reference, *fused), 0.0);
  torch::optim::Adam adam(reference->parameters(), torch::optim::AdamOptions(3e-3));
  optim::FlatAdam flat(*fused, 3e-3 * lr_scale);
  EXPECT_EQ(flat.numel(), [&] {
    int64_t n = 0;
    for (const auto& p : fused->parameters()) n += p.numel();
    return n;
  }());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  double worst = 0;
  for (int step = 0; step < 60; ++step) {
    auto x = torch::rand({8, 1, 4, 4}, gen);
    auto y = torch::randint(0, 3, {8, 1}, gen, torch::kInt64);
    auto c = data::encode_conditions(cfg.conditions, y);
    auto eps = torch::randn({8, 3}, gen);

    adam.zero_grad();
    models::elbo_loss(*reference, x, c, eps, 1.0).loss.backward();

    // The fused optimizer gets the very same gradients (written into its flat
    // gradient buffer through the parameters' .grad views) and starts from the
    // same parameters, so any difference comes from this one step alone.
    flat.zero_grad();
    auto ref = reference->named_parameters();
    std::map<std::string, torch::Tensor> before;
    {
      torch::NoGradGuard no_grad;
      for (auto& p : fused->named_parameters()) {
        p.value().copy_(ref[p.key()]);
        p.value().mutable_grad().copy_(ref[p.key()].grad());
        before[p.key()] = ref[p.key()].detach().clone();
      }
    }
    const double norm_ref = torch::nn::utils::clip_grad_norm_(reference->parameters(), clip);
    adam.step();
    const double norm = flat.grad_norm();
    // A sum of n squares in float32 is within n roundings of the exact sum
    // whatever the order of the additions (the norm's square root halves that).
    EXPECT_NEAR(
        norm, norm_ref,
        static_cast<double>(flat.numel()) * std::numeric_limits<float>::epsilon() * norm_ref)
        << "step " << step;
    flat.step(std::min(1.0, clip / (norm + 1e-6)));
    worst = std::max(worst, worst_budget_ratio(*reference, *fused, before));
  }
  EXPECT_EQ(flat.steps(), 60);
  // The parameters moved: the test compares real updates.
  torch::manual_seed(1);
  models::CVAE initial(cfg);
  EXPECT_GT(max_rel_diff(*initial, *fused), 1e-2);
  return worst;
}

TEST(FlatAdam, MatchesTorchAdamStepForStep) { EXPECT_LE(run(1e9), 1.0); }

TEST(FlatAdam, MatchesTorchAdamWithGradientClipping) { EXPECT_LE(run(0.5), 1.0); }

// The budget is tight enough to catch a wrong update: a learning rate off by
// one part in a thousand breaks it (so does anything coarser).
TEST(FlatAdam, RoundingBudgetCatchesAWrongUpdate) {
  EXPECT_GT(run(1e9, 1.001), 1.0);
  EXPECT_GT(run(0.5, 0.999), 1.0);
}

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
