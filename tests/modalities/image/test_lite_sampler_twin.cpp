// The torch-free sampler (src/lite/): its noise stream, its raw weight format,
// its byte conversion, and its images, checked against the torch model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/container.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "lite/mlp_sampler.h"
#include "lite/normal_stream.h"
#include "lite/raw_tensors.h"
#include "modalities/image/image_sampling.h"
#include "models/cvae_model.h"
#include "models/model_file.h"
#include "models/sampling.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

TEST(NormalStream, IsSeededAndStandardNormal) {
  const int64_t n = 200000;
  std::vector<float> a(n), b(n), c(n);
  lite::NormalStream(7).fill(a.data(), n);
  lite::NormalStream(7).fill(b.data(), n);
  lite::NormalStream(8).fill(c.data(), n);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double mean = 0, var = 0, tail = 0;
  for (float v : a) mean += v;
  mean /= n;
  for (float v : a) {
    var += (v - mean) * (v - mean);
    tail += std::abs(v) > 1.959964 ? 1 : 0;
  }
  var /= n - 1;
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032,
  // two-sided 5% tail sqrt(0.05 * 0.95 / n) = 0.0005; bounds at about 4.5 of them.
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.015);
  EXPECT_NEAR(tail / n, 0.05, 0.0025);
}

TEST(RawTensors, RoundTripAndRejectMalformedBytes) {
  std::vector<lite::RawTensor> in = {
      {"a.weight", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {}, {0.5f}}, {"empty", {0, 4}, {}}};
  const std::string bytes = lite::encode_raw_tensors(in);
  const auto out = lite::decode_raw_tensors(bytes, "test");
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].name, in[i].name);
    EXPECT_EQ(out[i].shape, in[i].shape);
    EXPECT_EQ(out[i].values, in[i].values);
  }
  EXPECT_TRUE(testing::contains(testing::error_of<CheckpointError>([&] {
                                  lite::decode_raw_tensors(bytes.substr(0, bytes.size() - 3),
                                                           "f.cvae");
                                }),
                                "f.cvae: raw tensors are truncated"));
  EXPECT_TRUE(testing::contains(
      testing::error_of<CheckpointError>([&] { lite::decode_raw_tensors("XXXXXXXX", "f"); }),
      "bad magic"));
  EXPECT_TRUE(testing::contains(
      testing::error_of<CheckpointError>([&] { lite::decode_raw_tensors(bytes + "z", "f"); }),
      "trailing bytes"));
}

TEST(LiteSampler, ToBytesRoundsAsTorchDoes) {
  // Against torch's round (half to even) and clamp on the same floats,
  // including exact halves and values outside [0, 1].
  auto x =
      torch::cat({torch::rand({5000}), torch::tensor({0.0f, 1.0f, -0.3f, 1.7f, 0.5f / 255,
                                                      1.5f / 255, 127.5f / 255, 254.5f / 255})});
  auto want = x.mul(255.0).round().clamp(0, 255).to(torch::kUInt8);
  std::vector<uint8_t> got(static_cast<size_t>(x.numel()));
  lite::to_bytes(x.data_ptr<float>(), x.numel(), got.data());
  for (int64_t i = 0; i < x.numel(); ++i)
    ASSERT_EQ(got[static_cast<size_t>(i)], want[i].item<uint8_t>()) << "x = " << x[i].item<float>();
}

// The sampler's images against the torch model's prior and decoder on the
// same noise, for both priors and two conditions.
void check_against_torch(const std::string& prior) {
  ModelConfig cfg = testing::toy_model_config({1, 6, 5}, 3, {24, 16}, 3);
  cfg.prior = prior;
  cfg.likelihood = "bernoulli";
  cfg.conditions.push_back({"size", "categorical", {"s", "m", "l", "xl"}});
  ASSERT_TRUE(lite::sampler_supports(cfg));
  torch::manual_seed(4);
  models::CVAE model(cfg);
  model->eval();
  const io::LabelRows rows = {{0, 3}, {2, 1}};
  const int64_t n = 5;
  const double temperature = 0.8;
  auto images = cvae::modalities::image::sample_mlp_images(*model, rows, n, temperature, 42);
  ASSERT_EQ(images.sizes().vec(), (std::vector<int64_t>{10, 1, 6, 5}));

  torch::NoGradGuard no_grad;
  std::vector<float> eps(10 * 3);
  lite::NormalStream(42).fill(eps.data(), 30);
  auto e = torch::from_blob(eps.data(), {10, 3}, torch::kFloat32).clone();
  auto y = torch::tensor({0, 3, 2, 1}, torch::kInt64).view({2, 2}).repeat_interleave(n, 0);
  auto c = data::encode_conditions(cfg.conditions, y);
  auto [mu_p, logvar_p] = model->prior(c);
  auto z = mu_p + temperature * torch::exp(0.5 * logvar_p) * e;
  auto want = cvae::models::decode_mean(*model, z, c);
  EXPECT_LE((images - want).abs().max().item<double>(), 1e-5) << prior;
  EXPECT_GT(images.std().item<double>(), 1e-3);  // not constant
}

TEST(LiteSampler, MatchesTheTorchModelStandardPrior) { check_against_torch("standard"); }
TEST(LiteSampler, MatchesTheTorchModelLearnedPrior) { check_against_torch("learned"); }

TEST(LiteSampler, SavingAModelFileLeavesTorchsGeneratorAlone) {
  // Writing the raw weights builds a module, whose initialisation draws from
  // torch's global generator; the save restores it.
  testing::TempDir dir;
  ModelConfig cfg = testing::toy_model_config({1, 6, 5}, 3, {24}, 3);
  cfg.likelihood = "bernoulli";
  models::CVAE model(cfg);
  models::ModelFile f;
  f.model = cfg;
  f.weights = models::module_to_bytes(*model);
  torch::manual_seed(9);
  const auto want = torch::rand({4});
  torch::manual_seed(9);
  models::save_model_file(dir.file("m.cvae"), f);
  EXPECT_TRUE(torch::equal(torch::rand({4}), want));
  EXPECT_EQ(core::read_container(dir.file("m.cvae")).blobs.count("inference/weights_f32"), 1u);
}

TEST(LiteSampler, SupportsOnlyMlpImageModelsWithBernoulli) {
  ModelConfig cfg = testing::toy_model_config({1, 6, 5}, 3, {24}, 3);
  cfg.likelihood = "bernoulli";
  EXPECT_TRUE(lite::sampler_supports(cfg));
  auto conv = cfg;
  conv.arch = "conv";
  EXPECT_FALSE(lite::sampler_supports(conv));
  auto gauss = cfg;
  gauss.likelihood = "gaussian";
  EXPECT_FALSE(lite::sampler_supports(gauss));
  auto flat = cfg;
  flat.input_shape = {30};
  EXPECT_FALSE(lite::sampler_supports(flat));
}

}  // namespace
}  // namespace cvae
