// The fused MLP training step computes the same loss and gradients as autograd
// on elbo_loss, for any thread count, and the trainer uses it only where it applies.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "models/cvae_model.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"
#include "train/flat_adam.h"
#include "train/fused_mlp.h"

namespace cvae {
namespace {

// Two conditions (one-hot blocks of 3 and 2), two hidden layers, an odd batch.
ModelConfig small_config() {
  ModelConfig cfg = testing::toy_model_config({1, 5, 7}, 3, {40, 24}, 3);
  cfg.likelihood = "bernoulli";
  cfg.conditions.push_back({"size", "categorical", {"s", "l"}});
  return cfg;
}

struct Batch {
  torch::Tensor x, y, idx, eps;
};

Batch make_batch(const ModelConfig& cfg, int64_t n, int64_t b, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Batch out;
  out.x = torch::rand({n, 1, 5, 7}, gen);
  out.y = torch::stack({torch::randint(0, 3, {n}, gen, torch::kInt64),
                        torch::randint(0, 2, {n}, gen, torch::kInt64)},
                       1);
  out.idx = torch::randperm(n, gen, torch::kInt64).slice(0, 0, b);
  out.eps = torch::randn({b, cfg.latent}, gen);
  return out;
}

struct Reference {
  double loss, recon_sum, kl_sum, grad_norm;
  std::map<std::string, torch::Tensor> grads;
};

// elbo_loss and autograd on the same batch, into opt's gradient buffer.
Reference autograd_reference(models::CVAEImpl& model, optim::FlatAdam& opt, const Batch& batch,
                             double beta) {
  opt.zero_grad();
  auto x = batch.x.index_select(0, batch.idx);
  auto c = data::encode_conditions(model.config().conditions, batch.y.index_select(0, batch.idx));
  auto terms = models::elbo_loss(model, x, c, batch.eps, beta);
  terms.loss.backward();
  Reference r{terms.loss.item<double>(),
              terms.loss_recon.sum().item<double>(),
              terms.loss_kl.sum().item<double>(),
              opt.grad_norm(),
              {}};
  for (const auto& p : model.named_parameters()) r.grads[p.key()] = p.value().grad().clone();
  return r;
}

void expect_matches(models::CVAEImpl& model, const Reference& ref,
                    const training::FusedMLPStep::Result& got, const std::string& what) {
  EXPECT_NEAR(got.loss, ref.loss, 1e-5 * std::abs(ref.loss)) << what;
  EXPECT_NEAR(got.recon_sum, ref.recon_sum, 1e-5 * std::abs(ref.recon_sum)) << what;
  EXPECT_NEAR(got.kl_sum, ref.kl_sum, 1e-4 * std::abs(ref.kl_sum) + 1e-6) << what;
  EXPECT_NEAR(got.grad_norm, ref.grad_norm, 1e-4 * ref.grad_norm) << what;
  for (const auto& p : model.named_parameters()) {
    const auto& want = ref.grads.at(p.key());
    const auto& have = p.value().grad();
    const double scale = want.abs().max().item<double>();
    ASSERT_GT(scale, 0) << what << ": " << p.key() << " has an all-zero reference gradient";
    const double diff = (have - want).abs().max().item<double>();
    EXPECT_LE(diff, 1e-4 * scale) << what << ": gradient of " << p.key();
  }
}

void check_against_autograd(const ModelConfig& cfg, int threads, double beta) {
  torch::manual_seed(3);
  models::CVAE model(cfg);
  optim::FlatAdam opt(*model, 1e-3);
  const Batch batch = make_batch(cfg, 23, 13, 11);
  const Reference ref = autograd_reference(*model, opt, batch, beta);
  // The fused step overwrites every gradient: garbage in the buffer must not leak.
  opt.grads().fill_(123.0);
  training::FusedMLPStep step(*model, opt, threads);
  const auto got = step.run(batch.x, batch.y, batch.idx, batch.eps, beta);
  EXPECT_EQ(got.n, 13);
  expect_matches(*model, ref, got, "threads " + std::to_string(threads));
  // A second call (buffers reused) gives the same.
  const auto again = step.run(batch.x, batch.y, batch.idx, batch.eps, beta);
  EXPECT_EQ(again.loss, got.loss);
  expect_matches(*model, ref, again, "second call");
}

TEST(FusedMLPStep, MatchesAutogradOneThread) { check_against_autograd(small_config(), 1, 0.7); }

TEST(FusedMLPStep, MatchesAutogradForEveryThreadCount) {
  // 3 threads: uneven shares of 40, 24 and 35 units, and of the 13 rows.
  for (int threads : {2, 3}) check_against_autograd(small_config(), threads, 1.0);
}

TEST(FusedMLPStep, MatchesAutogradWhereTheLogVarianceIsClamped) {
  // A narrow clamp range: most log-variances sit outside it, where clamp's
  // gradient is zero; the rest pass theirs.
  auto cfg = small_config();
  cfg.logvar_min = -0.05;
  cfg.logvar_max = 0.05;
  torch::manual_seed(3);
  models::CVAE probe(cfg);
  const Batch batch = make_batch(cfg, 23, 13, 11);
  auto x = batch.x.index_select(0, batch.idx);
  auto c = data::encode_conditions(cfg.conditions, batch.y.index_select(0, batch.idx));
  int64_t clamped = 0;
  {
    torch::NoGradGuard no_grad;
    auto lv = probe->encode(x, c).second;
    clamped = (lv.abs() >= 0.05 - 1e-7).sum().item<int64_t>();
    ASSERT_LT(clamped, lv.numel());
  }
  ASSERT_GT(clamped, 0);
  check_against_autograd(cfg, 2, 1.0);
}

TEST(FusedMLPStep, OneHiddenLayerAndABatchSmallerThanTheThreads) {
  auto cfg = small_config();
  cfg.hidden = {17};
  torch::manual_seed(3);
  models::CVAE model(cfg);
  optim::FlatAdam opt(*model, 1e-3);
  Batch batch = make_batch(cfg, 9, 1, 4);  // one row: the other threads get none
  const Reference ref = autograd_reference(*model, opt, batch, 1.0);
  training::FusedMLPStep step(*model, opt, 4);
  expect_matches(*model, ref, step.run(batch.x, batch.y, batch.idx, batch.eps, 1.0), "1 row");
}

// A deferred optimizer step, applied by the next run's forward pass (or by
// flush), leaves exactly the weights and optimizer state of an immediate one.
void check_deferred_step(int threads, double grad_scale) {
  const std::string what =
      "threads " + std::to_string(threads) + ", grad scale " + std::to_string(grad_scale);
  const auto cfg = small_config();
  torch::manual_seed(3);
  models::CVAE now_model(cfg);
  torch::manual_seed(3);
  models::CVAE later_model(cfg);
  optim::FlatAdam now_opt(*now_model, 1e-2), later_opt(*later_model, 1e-2);
  training::FusedMLPStep now(*now_model, now_opt, threads), later(*later_model, later_opt, threads);
  for (int i = 0; i < 4; ++i) {
    const Batch batch = make_batch(cfg, 23, 13, 20 + i);
    const auto a = now.run(batch.x, batch.y, batch.idx, batch.eps, 1.0);
    EXPECT_EQ(later.has_deferred_step(), i > 0);
    const auto b = later.run(batch.x, batch.y, batch.idx, batch.eps, 1.0);
    EXPECT_FALSE(later.has_deferred_step());  // the forward pass applied it
    // Bit for bit: the same weights went into both forward passes.
    EXPECT_EQ(a.loss, b.loss) << what << ", step " << i;
    EXPECT_EQ(a.grad_norm, b.grad_norm) << what << ", step " << i;
    now_opt.step(grad_scale);
    later.defer_step(grad_scale);
    EXPECT_TRUE(later.has_deferred_step());
  }
  // The last step is still pending: the weights differ until flush().
  auto now_params = now_model->named_parameters();
  bool all_equal = true;
  for (const auto& p : later_model->named_parameters())
    all_equal = all_equal && torch::equal(p.value(), now_params[p.key()]);
  EXPECT_FALSE(all_equal) << what;
  later.flush();
  EXPECT_FALSE(later.has_deferred_step());
  for (const auto& p : later_model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), now_params[p.key()])) << what << ": " << p.key();
  EXPECT_EQ(later_opt.state_bytes(), now_opt.state_bytes()) << what;
  later.flush();  // nothing pending: no change
  for (const auto& p : later_model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), now_params[p.key()])) << what << ": " << p.key();
}

TEST(FusedMLPStep, DeferredOptimizerStepEqualsAnImmediateOne) {
  for (int threads : {1, 2, 3})
    for (double scale : {1.0, 0.3}) check_deferred_step(threads, scale);
}

TEST(FusedMLPStep, RefusesASecondDeferredStepBeforeTheFirstIsApplied) {
  const auto cfg = small_config();
  torch::manual_seed(3);
  models::CVAE model(cfg);
  optim::FlatAdam opt(*model, 1e-3);
  training::FusedMLPStep step(*model, opt, 2);
  const Batch batch = make_batch(cfg, 23, 13, 11);
  step.run(batch.x, batch.y, batch.idx, batch.eps, 1.0);
  step.defer_step(1.0);
  EXPECT_THROW(step.defer_step(1.0), c10::Error);
  EXPECT_EQ(opt.steps(), 1);
}

TEST(FusedMLPStep, SaysWhyAModelIsNotSupported) {
  TrainConfig t;
  t.free_bits = 0;
  auto cfg = small_config();
  EXPECT_EQ(training::fused_mlp_unsupported(cfg, t), "");
  auto learned = cfg;
  learned.prior = "learned";
  EXPECT_NE(training::fused_mlp_unsupported(learned, t).find("prior"), std::string::npos);
  auto conv = cfg;
  conv.arch = "conv";
  EXPECT_NE(training::fused_mlp_unsupported(conv, t).find("conv"), std::string::npos);
  auto gauss = cfg;
  gauss.likelihood = "gaussian";
  EXPECT_NE(training::fused_mlp_unsupported(gauss, t).find("gaussian"), std::string::npos);
  TrainConfig fb = t;
  fb.free_bits = 0.5;
  EXPECT_NE(training::fused_mlp_unsupported(cfg, fb).find("free bits"), std::string::npos);
  TrainConfig ssl = t;
  ssl.labelled = 10;
  EXPECT_NE(training::fused_mlp_unsupported(cfg, ssl).find("semi-supervised"), std::string::npos);
}

TEST(FusedMLPStep, TrainerRunsBothEnginesToTheSameLosses) {
  testing::TempDir dir;
  testing::write_toy_idx(dir.path(), 96, 24);
  std::vector<double> losses[2];
  int k = 0;
  for (const char* engine : {"fused", "autograd"}) {
    auto req = testing::toy_train_request(dir.path(), dir.file(std::string(engine) + ".cvae"), 3);
    req.train.threads = 2;
    req.engine = engine;
    for (const auto& m : train(req).epochs) losses[k].push_back(m.train_loss);
    ++k;
  }
  ASSERT_EQ(losses[0].size(), 3u);
  ASSERT_EQ(losses[1].size(), 3u);
  // The same maths from the same random draws: equal up to float rounding,
  // which grows a little as the weights move apart.
  for (size_t e = 0; e < 3; ++e)
    EXPECT_NEAR(losses[0][e], losses[1][e], 1e-3 * std::abs(losses[1][e])) << "epoch " << e + 1;
  EXPECT_LT(losses[0][2], losses[0][0]);  // and it learns
}

TEST(FusedMLPStep, TrainerRejectsAnEngineThatCannotRunTheModel) {
  testing::TempDir dir;
  testing::write_toy_idx(dir.path(), 32, 8);
  auto req = testing::toy_train_request(dir.path(), dir.file("m.cvae"), 1);
  req.model.prior = "learned";
  req.engine = "fused";
  EXPECT_TRUE(testing::contains(testing::error_of<ConfigError>([&] { train(req); }),
                                "--engine fused cannot train this model: the prior is 'learned'"));
  req.engine = "turbo";
  EXPECT_TRUE(testing::contains(testing::error_of<ConfigError>([&] { train(req); }),
                                "unknown --engine (got 'turbo'"));
  req.engine = "auto";  // falls back to autograd for the learned prior
  EXPECT_EQ(train(req).epochs.size(), 1u);
}

}  // namespace
}  // namespace cvae
