// The table of `cvae generate`'s options (src/lite/generate_options.cpp), which
// both parsers read: each option lands in its field, the defaults shown are the
// request's, and CLI11's checks hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cvae/api.h"
#include "lite/generate_options.h"

namespace cvae::lite {
namespace {

// Parses args (without the program name) into a default request.
GenerateRequest parse(std::vector<std::string> args) {
  GenerateRequest r;
  CLI::App app;
  add_generate_options(app, r);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  app.parse(args);
  return r;
}

TEST(GenerateOptions, OnlyTheModelKeepsEveryDefault) {
  const GenerateRequest r = parse({"--model", "m.cvae"});
  const GenerateRequest d;
  EXPECT_EQ(r.model, "m.cvae");
  EXPECT_EQ(r.labels, d.labels);
  EXPECT_EQ(r.n, d.n);
  EXPECT_EQ(r.temperature, d.temperature);
  EXPECT_EQ(r.latent_temperature, d.latent_temperature);
  EXPECT_EQ(r.sampler, d.sampler);
  EXPECT_EQ(r.seed, d.seed);
  EXPECT_FALSE(r.sample_pixels);
  EXPECT_EQ(r.decoding.method, d.decoding.method);
  EXPECT_EQ(r.decoding.rerank, d.decoding.rerank);
  EXPECT_EQ(r.format, d.format);
  EXPECT_EQ(r.out, d.out);
  EXPECT_EQ(r.threads, d.threads);
}

TEST(GenerateOptions, EachOptionLandsInItsField) {
  const GenerateRequest r = parse({"--model",
                                   "a.cvae",
                                   "--label",
                                   "3,5",
                                   "-n",
                                   "4",
                                   "--temperature",
                                   "0.8",
                                   "--latent-temperature",
                                   "0.6",
                                   "--sampler",
                                   "prior",
                                   "--seed",
                                   "99",
                                   "--sample-pixels",
                                   "--decode",
                                   "beam",
                                   "--top-k",
                                   "12",
                                   "--top-p",
                                   "0.5",
                                   "--beam",
                                   "3",
                                   "--rerank",
                                   "2",
                                   "--format",
                                   "idx",
                                   "--out",
                                   "dir/x",
                                   "--threads",
                                   "2"});
  EXPECT_EQ(r.model, "a.cvae");
  EXPECT_EQ(r.labels, (std::vector<std::string>{"3,5"}));  // the label parser splits it
  EXPECT_EQ(r.n, 4);
  EXPECT_EQ(r.temperature, 0.8);
  EXPECT_EQ(r.latent_temperature, 0.6);
  EXPECT_EQ(r.sampler, "prior");
  EXPECT_EQ(r.seed, 99u);
  EXPECT_TRUE(r.sample_pixels);
  EXPECT_EQ(r.decoding.method, "beam");
  EXPECT_EQ(r.decoding.top_k, 12);
  EXPECT_EQ(r.decoding.top_p, 0.5);
  EXPECT_EQ(r.decoding.beam, 3);
  EXPECT_EQ(r.decoding.rerank, 2);
  EXPECT_EQ(r.format, "idx");
  EXPECT_EQ(r.out, "dir/x");
  EXPECT_EQ(r.threads, 2);
}

TEST(GenerateOptions, CountHasALongNameAndLabelTakesSeveralValues) {
  EXPECT_EQ(parse({"--model", "m", "--count", "6"}).n, 6);
  EXPECT_EQ(parse({"--model", "m", "--label", "a", "b"}).labels,
            (std::vector<std::string>{"a", "b"}));
}

TEST(GenerateOptions, ChecksTheModelAndTheLists) {
  EXPECT_THROW(parse({"-n", "3"}), CLI::RequiredError);
  EXPECT_THROW(parse({"--model", "m", "--sampler", "mean"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--model", "m", "--decode", "nucleus"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--model", "m", "-n", "three"}), CLI::ConversionError);
  EXPECT_THROW(parse({"--model", "m", "--colour", "red"}), CLI::ExtrasError);
  EXPECT_EQ(parse({"--model", "m", "--sampler", "gmm"}).sampler, "gmm");
  EXPECT_EQ(parse({"--model", "m", "--format", "tsv"}).format, "tsv");  // the modality checks it
}

TEST(GenerateOptions, DefaultsShownAreTheRequestsOwn) {
  GenerateRequest r;
  r.n = 77;
  r.seed = 12345;
  r.sampler = "prior";
  r.decoding.beam = 9;
  CLI::App app;
  add_generate_options(app, r);
  EXPECT_EQ(app.get_option("-n")->get_default_str(), "77");
  EXPECT_EQ(app.get_option("--seed")->get_default_str(), "12345");
  EXPECT_EQ(app.get_option("--sampler")->get_default_str(), "prior");
  EXPECT_EQ(app.get_option("--beam")->get_default_str(), "9");
  const std::string help = app.help();
  EXPECT_NE(help.find("77"), std::string::npos) << help;
  EXPECT_NE(help.find("--latent-temperature"), std::string::npos) << help;
}

TEST(DecodingOptions, AreTheirOwnTable) {
  TextDecoding d;
  CLI::App app;
  add_decoding_options(app, d);
  std::vector<std::string> args = {"--decode", "greedy", "--top-k", "5",        "--top-p",
                                   "0.25",     "--beam", "4",       "--rerank", "-1"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  EXPECT_EQ(d.method, "greedy");
  EXPECT_EQ(d.top_k, 5);
  EXPECT_EQ(d.top_p, 0.25);
  EXPECT_EQ(d.beam, 4);
  EXPECT_EQ(d.rerank, -1);
  int options = 0;  // and nothing else (but CLI11's --help)
  for (const CLI::Option* opt : app.get_options()) options += opt != app.get_help_ptr();
  EXPECT_EQ(options, 5);
}

}  // namespace
}  // namespace cvae::lite
