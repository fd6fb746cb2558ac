// What a request's sampling options mean (src/core/sampling.cpp): the "auto"
// (-1) values resolved by a modality's defaults, and the decoding options'
// bounds, each error naming the option.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "support/expect_error.h"

namespace cvae::core {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// As the image and text modalities define them: --temperature is the latent
// scale for images and the softmax temperature for text.
constexpr SamplingDefaults kImages{true, 1.4, 16};
constexpr SamplingDefaults kText{false, 1.0, 8};

std::string rejection(const DecodeOptions& o) {
  return testing::error_of<ConfigError>([&] { o.validate(); });
}

std::string resolve_error(const SamplingDefaults& d, double t, double lt,
                          const TextDecoding& dec = {}) {
  return testing::error_of<ConfigError>([&] { resolve_sampling(d, t, lt, dec); });
}

TEST(DecodeOptions, DefaultsAndInclusiveBoundsAreValid) {
  EXPECT_NO_THROW(DecodeOptions{}.validate());
  DecodeOptions o;
  o.method = "sample";
  o.temperature = 1e-3;
  o.top_k = int64_t{1} << 30;
  o.top_p = 1;
  o.beam = 1000;
  o.rerank = 1000;
  EXPECT_NO_THROW(o.validate());
  o.method = "beam";
  o.temperature = 100;
  o.top_k = 0;
  o.top_p = 1e-9;
  o.beam = 1;
  o.rerank = 1;
  EXPECT_NO_THROW(o.validate());
}

TEST(DecodeOptions, EachOutOfRangeValueNamesItsOption) {
  DecodeOptions o;
  o.method = "nucleus";
  EXPECT_CONTAINS(rejection(o),
                  "unknown --decode (got 'nucleus' vs expected greedy, sample or beam)");
  o = {};
  o.temperature = 100.5;
  EXPECT_CONTAINS(rejection(o),
                  "--temperature out of range for text (got 100.5 vs expected 0.001..100; "
                  "--decode greedy for the most likely words)");
  o.temperature = 0;
  EXPECT_CONTAINS(rejection(o), "--temperature out of range for text (got 0 ");
  o.temperature = kNaN;
  EXPECT_CONTAINS(rejection(o), "--temperature out of range for text (got nan ");
  o = {};
  o.top_k = -1;
  EXPECT_CONTAINS(rejection(o), "--top-k out of range (got -1 vs expected 0 or more)");
  o.top_k = (int64_t{1} << 30) + 1;
  EXPECT_CONTAINS(rejection(o), "--top-k out of range");
  o = {};
  o.top_p = 0;
  EXPECT_CONTAINS(rejection(o), "--top-p out of range (got 0 vs expected > 0 and <= 1)");
  o.top_p = 1.01;
  EXPECT_CONTAINS(rejection(o), "--top-p out of range (got 1.01");
  o.top_p = kNaN;
  EXPECT_CONTAINS(rejection(o), "--top-p out of range (got nan");
  o = {};
  o.beam = 1001;
  EXPECT_CONTAINS(rejection(o), "--beam out of range (got 1001 vs expected 1..1000)");
  o = {};
  o.rerank = 0;
  EXPECT_CONTAINS(rejection(o), "--rerank out of range (got 0 vs expected 1..1000, or -1 = auto)");
}

TEST(ResolveSampling, ImagesAutoIsTheModalitysLatentTemperatureAndCandidates) {
  const Sampling s = resolve_sampling(kImages, -1, -1, TextDecoding{});
  EXPECT_EQ(s.latent_temperature, 1.4);
  EXPECT_EQ(s.decode.rerank, 16);
  EXPECT_EQ(s.decode.temperature, 1.0);  // the softmax is not what --temperature scales
}

TEST(ResolveSampling, ImagesTemperatureIsTheLatentOneUnlessBothAreGiven) {
  EXPECT_EQ(resolve_sampling(kImages, 0.8, -1, {}).latent_temperature, 0.8);
  EXPECT_EQ(resolve_sampling(kImages, 0.8, -1, {}).decode.temperature, 1.0);
  EXPECT_EQ(resolve_sampling(kImages, 0.8, 0.5, {}).latent_temperature, 0.5);
  EXPECT_EQ(resolve_sampling(kImages, -1, 0.5, {}).latent_temperature, 0.5);
  // 0 is a temperature (the prior's mean), not "auto".
  EXPECT_EQ(resolve_sampling(kImages, 0, -1, {}).latent_temperature, 0.0);
}

TEST(ResolveSampling, TextTemperatureIsTheSoftmaxOne) {
  Sampling s = resolve_sampling(kText, 0.7, -1, TextDecoding{});
  EXPECT_EQ(s.decode.temperature, 0.7);
  EXPECT_EQ(s.latent_temperature, 1.0);  // the modality's default
  EXPECT_EQ(s.decode.rerank, 8);
  s = resolve_sampling(kText, -1, 0.3, TextDecoding{});
  EXPECT_EQ(s.decode.temperature, 1.0);
  EXPECT_EQ(s.latent_temperature, 0.3);
  // 0 passes the request's range but not the softmax's.
  EXPECT_CONTAINS(resolve_error(kText, 0, -1), "--temperature out of range for text (got 0 ");
}

TEST(ResolveSampling, DecodingIsCopiedAndAnExplicitRerankKept) {
  TextDecoding d;
  d.method = "beam";
  d.top_k = 40;
  d.top_p = 0.5;
  d.beam = 7;
  d.rerank = 3;
  const Sampling s = resolve_sampling(kText, -1, -1, d);
  EXPECT_EQ(s.decode.method, "beam");
  EXPECT_EQ(s.decode.top_k, 40);
  EXPECT_EQ(s.decode.top_p, 0.5);
  EXPECT_EQ(s.decode.beam, 7);
  EXPECT_EQ(s.decode.rerank, 3);
  d.rerank = 1;
  EXPECT_EQ(resolve_sampling(kImages, -1, -1, d).decode.rerank, 1);
}

TEST(ResolveSampling, OutOfRangeTemperaturesAndDecodingAreNamed) {
  EXPECT_CONTAINS(resolve_error(kImages, 101, -1),
                  "--temperature out of range (got 101 vs expected 0..100, or -1 = auto)");
  EXPECT_CONTAINS(resolve_error(kImages, -2, -1), "--temperature out of range (got -2 ");
  EXPECT_CONTAINS(resolve_error(kImages, kNaN, -1), "--temperature out of range (got nan ");
  EXPECT_CONTAINS(resolve_error(kImages, -1, -0.5),
                  "--latent-temperature out of range (got -0.5 vs expected 0..100, or -1 = auto)");
  EXPECT_CONTAINS(resolve_error(kText, 1, 100.5), "--latent-temperature out of range");
  EXPECT_NO_THROW(resolve_sampling(kImages, 100, 100, {}));
  TextDecoding bad;
  bad.method = "nucleus";
  EXPECT_CONTAINS(resolve_error(kImages, -1, -1, bad), "unknown --decode (got 'nucleus'");
  bad = {};
  bad.rerank = 0;  // only -1 is auto
  EXPECT_CONTAINS(resolve_error(kImages, -1, -1, bad), "--rerank out of range (got 0 ");
}

}  // namespace
}  // namespace cvae::core
