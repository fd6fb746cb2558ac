// The eval sub-command: its JSON metrics, and with a judge trained by classifier train, the
// fidelity metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_fixtures.h"

namespace cli_test {
namespace {

TEST_F(CliUserPath, EvalWritesConsistentJson) {
  RunResult r =
      cvae::testing::run_cli({"eval", "--model", model(), "--data", data(), "--iw-samples", "20",
                              "--json", out("e.json"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "wrote " + out("e.json"))) << r.out;
  auto j = nlohmann::json::parse(read_bytes(out("e.json")), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << read_bytes(out("e.json"));
  for (const char* key : {"neg_elbo", "recon", "kl", "iw_nll", "iw_samples", "active_units", "n"}) {
    ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
    ASSERT_TRUE(j.at(key).is_number()) << key << " is not a number in " << j.dump();
  }
  EXPECT_EQ(j.at("n").get<int64_t>(), kNTest);
  EXPECT_EQ(j.at("iw_samples").get<int64_t>(), 20);
  const double neg_elbo = j.at("neg_elbo").get<double>(), recon = j.at("recon").get<double>(),
               kl = j.at("kl").get<double>(), iw = j.at("iw_nll").get<double>();
  EXPECT_TRUE(std::isfinite(neg_elbo) && std::isfinite(iw));
  EXPECT_NEAR(neg_elbo, recon + kl, 1e-6 * std::abs(neg_elbo));
  EXPECT_GE(kl, 0.0);
  EXPECT_GT(recon, 0.0);
  EXPECT_LE(iw, neg_elbo + 0.5) << "the IWAE bound should be at least as tight as the ELBO";
  const int64_t active = j.at("active_units").get<int64_t>();
  EXPECT_GE(active, 0);
  EXPECT_LE(active, 2);
  // --limit evaluates a prefix of the split.
  r = cvae::testing::run_cli({"eval", "--model", model(), "--data", data(), "--iw-samples", "0",
                              "--limit", "10", "--json", out("e10.json"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto j10 = nlohmann::json::parse(read_bytes(out("e10.json")), nullptr, false);
  ASSERT_FALSE(j10.is_discarded());
  EXPECT_EQ(j10.at("n").get<int64_t>(), 10);
}

TEST_F(CliUserPath, JudgeTrainsAndEvalReportsFidelity) {
  const std::string judge = out("judges/judge.cls");  // the parent does not exist yet
  RunResult r = cvae::testing::run_cli({"classifier", "train", "--data", data(), "--out", judge,
                                        "--epochs", "3", "--threads", "1", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "test split: accuracy")) << r.out;
  r = cvae::testing::run_cli(
      {"classifier", "eval", "--model", judge, "--data", data(), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "accuracy")) << r.out;
  const std::string json = out("eval.json");
  r = cvae::testing::run_cli({"eval", "--model", model(), "--data", data(), "--judge", judge,
                              "--iw-samples", "0", "--samples-per-label", "20", "--threads", "1",
                              "--json", json});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "transfer accuracy")) << r.out;
  auto j = nlohmann::json::parse(read_bytes(json));
  for (const char* key : {"cond_accuracy", "judge_real_accuracy", "transfer_accuracy"}) {
    ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << "\n" << j.dump(2);
    EXPECT_GE(j[key].get<double>(), 0.0);
    EXPECT_LE(j[key].get<double>(), 1.0);
  }
  ASSERT_TRUE(j.contains("diversity_ratio") && j["diversity_ratio"].is_number());
  EXPECT_GT(j["diversity_ratio"].get<double>(), 0.0);
  EXPECT_EQ(j["cond_accuracy_per_label"].size(), static_cast<size_t>(n_labels()));
  EXPECT_EQ(j["sampler"], "gmm");
}

}  // namespace
}  // namespace cli_test
