// The info sub-command (text and --json), --help of each sub-command, and the top-level --help and
// --version.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_fixtures.h"

namespace cli_test {
namespace {

TEST_F(CliUserPath, InfoShowsLabelsAndShape) {
  RunResult r = cvae::testing::run_cli({"info", "--model", model()});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "modality        image\n")) << r.out;  // stored, not inferred
  EXPECT_TRUE(contains(r.out, "input shape     1x8x8")) << r.out;
  EXPECT_TRUE(contains(r.out, "condition       label")) << r.out;
  EXPECT_TRUE(contains(r.out, "0 1 2")) << r.out;
  EXPECT_TRUE(contains(r.out, "latent 2")) << r.out;
  EXPECT_TRUE(contains(r.out, "hidden 32")) << r.out;
  EXPECT_TRUE(contains(r.out, "4 of 4 epochs")) << r.out;
  EXPECT_TRUE(contains(r.out, "resumable       yes")) << r.out;
}

TEST_F(CliUserPath, InfoJsonParses) {
  RunResult r = cvae::testing::run_cli({"info", "--model", model(), "--json"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j.at("model").at("latent").get<int64_t>(), 2);
  EXPECT_EQ(j.at("model").at("modality").get<std::string>(), "image");
  EXPECT_FALSE(j.at("modality_inferred").get<bool>());
  EXPECT_EQ(j.at("model").at("input_shape").get<std::vector<int64_t>>(),
            (std::vector<int64_t>{1, kSize, kSize}));
  EXPECT_EQ(j.at("model").at("hidden").get<std::vector<int64_t>>(), std::vector<int64_t>{32});
  const auto labels =
      j.at("model").at("conditions").at(0).at("labels").get<std::vector<std::string>>();
  ASSERT_GE(labels.size(), 3u);
  EXPECT_EQ(labels[0], "0");
  EXPECT_EQ(labels[1], "1");
  EXPECT_EQ(labels[2], "2");
  EXPECT_EQ(j.at("state").at("epochs_done").get<int64_t>(), 4);
  EXPECT_EQ(j.at("resumable").get<bool>(), true);
  EXPECT_EQ(j.at("bytes").get<uint64_t>(), fs::file_size(model()));
}

// ---------------------------------------------------------------------------------------
// --help of each sub-command: exit 0, the options with their defaults.
struct HelpCase {
  const char* sub;
  std::vector<std::string> needles;
};

// Names the case in test listings (and so in CTest's test names).
void PrintTo(const HelpCase& c, std::ostream* os) { *os << c.sub; }

class CliHelp : public ::testing::TestWithParam<HelpCase> {};

TEST_P(CliHelp, ShowsOptionsAndDefaults) {
  const HelpCase& c = GetParam();
  RunResult r = cvae::testing::run_cli({c.sub, "--help"});
  ASSERT_EQ(r.code, 0) << describe(r);
  for (const auto& n : c.needles)
    EXPECT_TRUE(contains(r.out, n)) << "missing '" << n << "'\n" << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    SubCommands, CliHelp,
    ::testing::Values(
        HelpCase{"train",
                 {"--data",
                  "--out",
                  "--resume",
                  "--epochs",
                  "=40",
                  "--batch-size",
                  "=32",
                  "--hidden",
                  "=256",
                  "--latent",
                  "=16",
                  "--lr",
                  "=0.001",
                  "--save-every",
                  "--arch",
                  "=auto",
                  "--prior",
                  "=learned",
                  "--likelihood",
                  "=auto",
                  "--embedding",
                  "--word-dropout",
                  "=0.5",
                  "--modality",
                  "--max-tokens",
                  "=64",
                  "--min-count",
                  "=2",
                  "--kl-warmup",
                  "=5",
                  "--kl-cycles",
                  "--free-bits",
                  "--gmm-components",
                  "=30",
                  "--conv-channels",
                  "=32,64"}},
        HelpCase{"generate",
                 {"--model",
                  "--label",
                  "=[all]",
                  "--count",
                  "=10",
                  "--temperature",
                  "--seed",
                  "--format",
                  "=auto",
                  "--out",
                  "--sampler",
                  "=auto",
                  "--latent-temperature",
                  "--decode",
                  "=sample",
                  "--top-p",
                  "=0.9",
                  "--top-k",
                  "--beam",
                  "--rerank",
                  "=-1"}},
        HelpCase{"eval",
                 {"--model", "--data", "--iw-samples", "=-1", "--split", "=test", "--json",
                  "--judge", "--samples-per-label", "=100", "--transfer-examples"}},
        HelpCase{"transfer",
                 {"--model", "--data", "--index", "--to-label", "=[all]", "--out", "--format",
                  "--text", "--from-label", "--decode"}},
        HelpCase{"interpolate",
                 {"--model", "--label", "--to-label", "--steps", "=10", "--out", "--from-text",
                  "--to-text"}},
        HelpCase{"info", {"--model", "--json"}},
        HelpCase{"fit-sampler", {"--model", "--data", "--components", "=10", "--fit-to"}}),
    [](const ::testing::TestParamInfo<HelpCase>& p) {
      std::string name = p.param.sub;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST(CliTopLevel, HelpAndVersion) {
  RunResult r = cvae::testing::run_cli({"--help"});
  ASSERT_EQ(r.code, 0) << describe(r);
  for (const char* sub : {"train", "generate", "eval", "transfer", "interpolate", "info",
                          "classifier", "fit-sampler"}) {
    EXPECT_TRUE(contains(r.out, sub)) << r.out;
  }
  r = cvae::testing::run_cli({"--version"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_FALSE(r.out.empty());
}

}  // namespace
}  // namespace cli_test
