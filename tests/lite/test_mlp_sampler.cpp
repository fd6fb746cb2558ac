// The torch-free MLP image sampler (src/lite/mlp_sampler.cpp) without torch:
// which models it takes, which parameters it asks for (names and shapes, as
// the model file stores them), and its means in closed form on decoders built
// by hand. Its agreement with the torch model is
// tests/modalities/image/test_lite_sampler_twin.cpp's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cvae/config.h"
#include "io/labels.h"
#include "lite/mlp_sampler.h"
#include "lite/normal_stream.h"

namespace cvae::lite {
namespace {

// Seed 42's first twelve normals from NormalStream (their reference values are
// pinned in test_normal_stream.cpp).
const double kEps42[] = {-1.6132237513849164, 1.5344873235334187,   0.7816920450573492,
                         -0.4001934943234841, 0.015871293375984967, -0.12730993137685462,
                         0.4772168184355818,  -0.6567593236191075,  -0.6394511082571307,
                         -0.3692728608912485, -0.22099378992989457, 0.8457454489696848};

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// Parameters by name, zero unless set; records what the sampler asks for.
class Weights {
 public:
  void add(const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    params_[name] = {std::move(shape), std::vector<float>(static_cast<size_t>(n), 0.0f)};
  }
  // A Linear layer NAME.weight (out x in) and NAME.bias (out).
  void linear(const std::string& name, int64_t in, int64_t out) {
    add(name + ".weight", {out, in});
    add(name + ".bias", {out});
  }
  float& w(const std::string& name, int64_t row, int64_t col) {
    auto& p = params_.at(name + ".weight");
    return p.second.at(static_cast<size_t>(row * p.first.at(1) + col));
  }
  float& b(const std::string& name, int64_t i) {
    return params_.at(name + ".bias").second.at(static_cast<size_t>(i));
  }
  ParameterLookup lookup() {
    return [this](const std::string& name, const std::vector<int64_t>& shape) -> const float* {
      asked_.emplace_back(name, shape);
      auto it = params_.find(name);
      if (it == params_.end() || it->second.first != shape)
        throw std::runtime_error("no parameter " + name + " of that shape");
      return it->second.second.data();
    };
  }
  const std::vector<std::pair<std::string, std::vector<int64_t>>>& asked() const { return asked_; }

 private:
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<float>>> params_;
  std::vector<std::pair<std::string, std::vector<int64_t>>> asked_;
};

ModelConfig mlp_model(std::vector<int64_t> shape, std::vector<int64_t> hidden, int64_t latent,
                      std::vector<ConditionSpec> conditions) {
  ModelConfig m;
  m.modality = "image";
  m.arch = "mlp";
  m.likelihood = "bernoulli";
  m.prior = "standard";
  m.input_shape = std::move(shape);
  m.hidden = std::move(hidden);
  m.latent = latent;
  m.conditions = std::move(conditions);
  return m;
}

// Z = 2, two labels, two pixels, one hidden layer of 2: h = z + 10 (ReLU never
// active for |z| < 10), logits = h - 10 = z. So each mean is sigmoid(z).
struct IdentityDecoder {
  ModelConfig cfg = mlp_model({1, 1, 2}, {2}, 2, {{"label", "categorical", {"p", "q"}}});
  Weights weights;
  IdentityDecoder() {
    weights.linear("decoder.layers.0", 4, 2);
    weights.linear("decoder.out", 2, 2);
    for (int64_t j = 0; j < 2; ++j) {
      weights.w("decoder.layers.0", j, j) = 1;
      weights.b("decoder.layers.0", j) = 10;
      weights.w("decoder.out", j, j) = 1;
      weights.b("decoder.out", j) = -10;
    }
  }
  // The learned prior: hidden unit k = the one-hot of label k; mu and logvar
  // of label k in column k of their heads.
  void learned_prior(const double mu[2][2], const double logvar[2][2]) {
    cfg.prior = "learned";
    weights.linear("prior.hidden", 2, 128);
    weights.linear("prior.mu_head", 128, 2);
    weights.linear("prior.logvar_head", 128, 2);
    for (int64_t k = 0; k < 2; ++k) {
      weights.w("prior.hidden", k, k) = 1;
      for (int64_t j = 0; j < 2; ++j) {
        weights.w("prior.mu_head", j, k) = static_cast<float>(mu[k][j]);
        weights.w("prior.logvar_head", j, k) = static_cast<float>(logvar[k][j]);
      }
    }
  }
};

// Rounding budget of a mean through IdentityDecoder: the +10 offset rounds z to
// half an ulp at 16 (2^-21 = 4.8e-7), the sigmoid's slope is at most 1/4, and
// a few float roundings of exp and the quotient (~2e-7) remain. A draw from the
// wrong noise, temperature or prior is off by more than 1e-3 here.
constexpr double kMeanBudget = 2e-6;

TEST(SamplerSupports, MlpBernoulliImageModelsOnly) {
  const ModelConfig ok = mlp_model({1, 4, 4}, {8}, 2, {{"label", "categorical", {"a"}}});
  EXPECT_TRUE(sampler_supports(ok));
  auto learned = ok;
  learned.prior = "learned";
  EXPECT_TRUE(sampler_supports(learned));
  auto older = ok;  // a file from before modalities were stored, without a vocabulary
  older.modality = "";
  EXPECT_TRUE(sampler_supports(older));
  auto text = ok;
  text.modality = "text";
  EXPECT_FALSE(sampler_supports(text));
  auto older_text = older;
  older_text.vocabulary = {"<pad>", "<unk>", "<bos>", "<eos>"};
  EXPECT_FALSE(sampler_supports(older_text));
  auto unresolved = ok;
  unresolved.arch = "auto";
  EXPECT_FALSE(sampler_supports(unresolved));
  auto cb = ok;
  cb.likelihood = "cbernoulli";
  EXPECT_FALSE(sampler_supports(cb));
  auto no_hidden = ok;
  no_hidden.hidden = {};
  EXPECT_FALSE(sampler_supports(no_hidden));
  auto other_prior = ok;
  other_prior.prior = "vamp";
  EXPECT_FALSE(sampler_supports(other_prior));
}

TEST(MlpDecoder, AsksForTheModelFilesNamesAndShapes) {
  // Encoder widths 5, 3: the decoder mirrors them (3, then 5). Z = 2, C = 2 + 3.
  ModelConfig cfg =
      mlp_model({1, 2, 2}, {5, 3}, 2,
                {{"a", "categorical", {"x", "y"}}, {"b", "categorical", {"u", "v", "w"}}});
  cfg.prior = "learned";
  cfg.logvar_min = -4;
  cfg.logvar_max = 3;
  Weights weights;
  weights.linear("decoder.layers.0", 7, 3);
  weights.linear("decoder.layers.1", 3, 5);
  weights.linear("decoder.out", 5, 4);
  weights.linear("prior.hidden", 5, 128);
  weights.linear("prior.mu_head", 128, 2);
  weights.linear("prior.logvar_head", 128, 2);
  const MlpDecoder d = mlp_decoder(cfg, weights.lookup());
  const std::vector<std::pair<std::string, std::vector<int64_t>>> want = {
      {"decoder.layers.0.weight", {3, 7}},    {"decoder.layers.0.bias", {3}},
      {"decoder.layers.1.weight", {5, 3}},    {"decoder.layers.1.bias", {5}},
      {"decoder.out.weight", {4, 5}},         {"decoder.out.bias", {4}},
      {"prior.hidden.weight", {128, 5}},      {"prior.hidden.bias", {128}},
      {"prior.mu_head.weight", {2, 128}},     {"prior.mu_head.bias", {2}},
      {"prior.logvar_head.weight", {2, 128}}, {"prior.logvar_head.bias", {2}}};
  EXPECT_EQ(weights.asked(), want);
  EXPECT_EQ(d.latent, 2);
  EXPECT_EQ(d.cond_width, 5);
  EXPECT_EQ(d.features, 4);
  EXPECT_EQ(d.cond_offsets, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(d.logvar_min, -4.0f);
  EXPECT_EQ(d.logvar_max, 3.0f);
  EXPECT_TRUE(d.learned_prior);
  ASSERT_EQ(d.layers.size(), 3u);
  EXPECT_EQ(d.layers[0].in, 7);
  EXPECT_EQ(d.layers[0].out, 3);
  EXPECT_EQ(d.layers[2].in, 5);
  EXPECT_EQ(d.layers[2].out, 4);
  EXPECT_EQ(d.prior_mu.in, 128);
}

TEST(MlpDecoder, TheStandardPriorNeedsNoPriorNetwork) {
  IdentityDecoder id;
  const MlpDecoder d = mlp_decoder(id.cfg, id.weights.lookup());
  EXPECT_FALSE(d.learned_prior);
  for (const auto& [name, shape] : id.weights.asked())
    EXPECT_EQ(name.rfind("prior.", 0), std::string::npos) << name;
  EXPECT_EQ(id.weights.asked().size(), 4u);
}

TEST(MlpDecoder, AMissingOrMisshapenParameterIsTheLookupsError) {
  IdentityDecoder id;
  id.weights.add("decoder.out.weight", {3, 2});  // the file's features differ
  EXPECT_THROW(mlp_decoder(id.cfg, id.weights.lookup()), std::runtime_error);
  IdentityDecoder learned;
  learned.cfg.prior = "learned";  // and no prior network in the file
  EXPECT_THROW(mlp_decoder(learned.cfg, learned.weights.lookup()), std::runtime_error);
}

TEST(SampleMeans, WithoutWeightsTheMeansAreTheSigmoidOfTheBias) {
  const ModelConfig cfg = mlp_model({1, 2, 2}, {3}, 2, {{"label", "categorical", {"a", "b"}}});
  Weights weights;
  weights.linear("decoder.layers.0", 4, 3);
  weights.linear("decoder.out", 3, 4);
  const double bias[] = {-2, 0, 1.5, 3};
  for (int64_t j = 0; j < 4; ++j) weights.b("decoder.out", j) = static_cast<float>(bias[j]);
  const MlpDecoder d = mlp_decoder(cfg, weights.lookup());
  const auto means = sample_means(d, {{0}, {1}}, 3, 1.4, 7);
  ASSERT_EQ(means.size(), 2u * 3 * 4);
  for (size_t i = 0; i < means.size(); ++i) EXPECT_NEAR(means[i], sigmoid(bias[i % 4]), 1e-6) << i;
}

TEST(SampleMeans, StandardPriorIsTemperatureTimesTheSeededNoiseRowMajor) {
  IdentityDecoder id;
  const MlpDecoder d = mlp_decoder(id.cfg, id.weights.lookup());
  const double t = 0.5;
  // Two rows of three draws: sample s takes eps[2s], eps[2s + 1].
  const auto means = sample_means(d, {{0}, {1}}, 3, t, 42);
  ASSERT_EQ(means.size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(means[i], sigmoid(t * kEps42[i]), kMeanBudget) << i;
  // Temperature 0: the prior's mean, whatever the seed.
  for (float m : sample_means(d, {{1}}, 4, 0.0, 42)) EXPECT_NEAR(m, 0.5, 1e-6);
}

TEST(SampleMeans, LearnedPriorShiftsScalesAndClampsByLabel) {
  IdentityDecoder id;
  const double mu[2][2] = {{0.5, -1}, {2, 0.25}};
  const double logvar[2][2] = {{-5, 0}, {3, -1}};  // -5 and 3 lie outside the clamp
  id.learned_prior(mu, logvar);
  id.cfg.logvar_min = -2;
  id.cfg.logvar_max = 0.5;
  const MlpDecoder d = mlp_decoder(id.cfg, id.weights.lookup());
  const double t = 0.7;
  const auto means = sample_means(d, {{0}, {1}}, 3, t, 42);
  ASSERT_EQ(means.size(), 12u);
  for (size_t s = 0; s < 6; ++s) {
    const size_t k = s / 3;  // the row's label
    for (size_t j = 0; j < 2; ++j) {
      const double lv = std::min(std::max(logvar[k][j], -2.0), 0.5);
      const double z = mu[k][j] + t * std::exp(0.5 * lv) * kEps42[2 * s + j];
      EXPECT_NEAR(means[2 * s + j], sigmoid(z), kMeanBudget) << "sample " << s << " dim " << j;
    }
  }
  const auto at_mean = sample_means(d, {{1}, {0}}, 1, 0.0, 3);
  EXPECT_NEAR(at_mean[0], sigmoid(2), kMeanBudget);
  EXPECT_NEAR(at_mean[1], sigmoid(0.25), kMeanBudget);
  EXPECT_NEAR(at_mean[2], sigmoid(0.5), kMeanBudget);
  EXPECT_NEAR(at_mean[3], sigmoid(-1), kMeanBudget);
}

TEST(SampleMeans, NoiseDoesNotDependOnTheChunking) {
  // 1100 draws span two of the sampler's 1024-row chunks; the noise is drawn
  // first, in order, as NormalStream(seed) gives it.
  IdentityDecoder id;
  const MlpDecoder d = mlp_decoder(id.cfg, id.weights.lookup());
  const int64_t n = 1100;
  const auto means = sample_means(d, {{1}}, n, 1.0, 9);
  std::vector<float> eps(2 * n);
  NormalStream(9).fill(eps.data(), 2 * n);
  ASSERT_EQ(means.size(), eps.size());
  int64_t bad = 0;
  for (size_t i = 0; i < eps.size(); ++i)
    bad += !(std::abs(means[i] - sigmoid(eps[i])) <= kMeanBudget);
  EXPECT_EQ(bad, 0);
}

TEST(SampleMeans, EachConditionsOneHotStartsAtItsOffset) {
  // Conditions of 2 and 3 labels: C = 5. Hidden unit k = column k of c; pixel
  // j's logit = 40 h_j - 20, so the pixels lit are the one-hot columns.
  const ModelConfig cfg = mlp_model(
      {1, 1, 5}, {5}, 2, {{"a", "categorical", {"x", "y"}}, {"b", "categorical", {"u", "v", "w"}}});
  Weights weights;
  weights.linear("decoder.layers.0", 7, 5);
  weights.linear("decoder.out", 5, 5);
  for (int64_t k = 0; k < 5; ++k) {
    weights.w("decoder.layers.0", k, 2 + k) = 1;
    weights.w("decoder.out", k, k) = 40;
    weights.b("decoder.out", k) = -20;
  }
  const MlpDecoder d = mlp_decoder(cfg, weights.lookup());
  const auto means = sample_means(d, {{1, 2}, {0, 0}}, 1, 1.0, 1);
  const std::vector<double> want = {0, 1, 0, 0, 1, 1, 0, 1, 0, 0};
  ASSERT_EQ(means.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(means[i], want[i], 1e-6) << i;
}

TEST(ToBytes, RoundsToTheNearestLevelAndClamps) {
  const std::vector<float> x = {0.0f,   1.0f,  0.5f, 0.25f,  0.001f,
                                0.999f, -0.5f, 1.5f, -1e30f, 1e30f};
  // 0.5 * 255 = 127.5 exactly: half to even gives 128; 0.25 * 255 = 63.75.
  const std::vector<uint8_t> want = {0, 255, 128, 64, 0, 255, 0, 255, 0, 255};
  std::vector<uint8_t> got(x.size(), 7);
  to_bytes(x.data(), static_cast<int64_t>(x.size()), got.data());
  EXPECT_EQ(got, want);
  to_bytes(x.data(), 0, got.data());  // nothing
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace cvae::lite
