// The train sub-command: the model and metrics it writes, resume (split and killed runs), stopping
// on SIGTERM/SIGINT, and the conv, learned-prior, likelihood and semi-supervised variants.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_fixtures.h"

namespace cli_test {
namespace {

TEST_F(CliUserPath, TrainWritesTheModelAndSaysSo) {
  const RunResult& r = shared().train;
  EXPECT_TRUE(file_exists(model()));
  EXPECT_TRUE(contains(r.out, "wrote " + model())) << describe(r);
  EXPECT_TRUE(contains(r.out, "4 epochs")) << describe(r);
  // --progress none: nothing on stderr.
  EXPECT_EQ(r.err, "") << describe(r);
  // The metrics file beside the model: one JSON line per epoch.
  const std::string metrics = read_bytes(fs::path(model()).parent_path() / "toy.metrics.jsonl");
  int lines = 0;
  size_t start = 0;
  while (start < metrics.size()) {
    size_t end = metrics.find('\n', start);
    if (end == std::string::npos) end = metrics.size();
    auto j = nlohmann::json::parse(metrics.substr(start, end - start), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << metrics;
    if (!j.is_discarded()) {
      EXPECT_EQ(j.value("epoch", -1), lines + 1);
    }
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, 4) << metrics;
  // No temporary or probe files are left beside the model.
  for (const auto& name : list_dir(fs::path(model()).parent_path().string())) {
    EXPECT_TRUE(name == "toy.cvae" || name == "toy.metrics.jsonl") << "left behind: " << name;
  }
}

TEST_F(CliResume, SplitRunEqualsOneRun) {
  TempDir dir("cvae-cli-resume");
  const std::string data = dir.file("toy");
  cvae::testing::write_toy_idx(data, 300, 30, kSize, kClasses, 5);
  RunResult r = cvae::testing::run_cli(train_args(data, dir.file("one.cvae"), 4));
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli(train_args(data, dir.file("two.cvae"), 2));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_EQ(info(dir.file("two.cvae")).at("state").at("epochs_done"), 2);
  r = cvae::testing::run_cli({"train", "--resume", dir.file("two.cvae"), "--data", data, "--epochs",
                              "4", "--threads", "1", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "wrote " + dir.file("two.cvae"))) << r.out;

  auto a = info(dir.file("one.cvae")), b = info(dir.file("two.cvae"));
  EXPECT_EQ(b.at("state").at("epochs_done"), 4);
  EXPECT_EQ(a.at("state").at("step"), b.at("state").at("step"));
  EXPECT_EQ(a.at("state").at("best_epoch"), b.at("state").at("best_epoch"));
  EXPECT_EQ(a.at("state").at("best_val"), b.at("state").at("best_val"));
  // The whole training state (shuffle state, counters, best validation loss) agrees.
  EXPECT_EQ(a.at("state"), b.at("state"));
  EXPECT_EQ(a.at("train"), b.at("train"));
  const std::string fa = fingerprint(dir, dir.file("one.cvae"), "a");
  ASSERT_FALSE(fa.empty());
  EXPECT_TRUE(fa == fingerprint(dir, dir.file("two.cvae"), "b"))
      << "a run of 2 + 2 epochs generates differently from a run of 4 epochs";
}

TEST_F(CliResume, KilledRunResumesToTheSameModel) {
  TempDir dir("cvae-cli-kill");
  const std::string data = dir.file("toy");
  cvae::testing::write_toy_idx(data, 600, 30, kSize, kClasses, 6);
  const Args opts = {"--batch-size", "8", "--save-every", "1"};
  const int epochs = 3;
  // The reference: one uninterrupted run.
  RunResult r = cvae::testing::run_cli(with(train_args(data, dir.file("ref.cvae"), epochs), opts));
  ASSERT_EQ(r.code, 0) << describe(r);

  const std::string model = dir.file("killed.cvae");
  const pid_t pid = cvae::testing::spawn_cli(with(train_args(data, model, epochs), opts),
                                             dir.file("out.txt"), dir.file("err.txt"));
  const bool saved = cvae::testing::wait_for_file(model, 120, pid);
  // Kill it hard as soon as the first save (after step 1 of many) is there:
  // waiting any longer races against the end of a fast run.
  ::kill(pid, SIGKILL);
  const int code = cvae::testing::wait_cli(pid, 60);
  ASSERT_TRUE(saved) << "the model file never appeared\n" << read_bytes(dir.file("err.txt"));
  ASSERT_EQ(code, 128 + SIGKILL) << "the run ended before it could be killed; make it longer\n"
                                 << read_bytes(dir.file("out.txt"))
                                 << read_bytes(dir.file("err.txt"));

  // What the killed run left is a complete, resumable model file part-way through.
  auto j = info(model);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.at("resumable"), true);
  const int64_t step = j.at("state").at("step").get<int64_t>();
  const int64_t total = info(dir.file("ref.cvae")).at("state").at("step").get<int64_t>();
  EXPECT_GT(step, 0);
  EXPECT_LT(step, total);

  r = cvae::testing::run_cli(
      {"train", "--resume", model, "--data", data, "--threads", "1", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto resumed = info(model), ref = info(dir.file("ref.cvae"));
  EXPECT_EQ(resumed.at("state").at("step").get<int64_t>(), total);
  EXPECT_EQ(resumed.at("state"), ref.at("state"));
  const std::string fa = fingerprint(dir, dir.file("ref.cvae"), "a");
  ASSERT_FALSE(fa.empty());
  EXPECT_TRUE(fa == fingerprint(dir, model, "b"))
      << "killed at step " << step << " of " << total
      << " and resumed, the model generates differently from the uninterrupted run";
}

// SIGTERM and SIGINT: the run saves, says how to resume, and exits with 130.
class CliStopSignal : public ::testing::TestWithParam<int> {};

TEST_P(CliStopSignal, SavesAndExits130) {
  const int sig = GetParam();
  TempDir dir("cvae-cli-signal");
  const std::string data = dir.file("toy"), model = dir.file("m.cvae");
  cvae::testing::write_toy_idx(data, 300, 30, kSize, kClasses, 8);
  const pid_t pid = cvae::testing::spawn_cli(
      with(train_args(data, model, 100000), {"--batch-size", "8", "--save-every", "1"}),
      dir.file("out.txt"), dir.file("err.txt"));
  const bool saved = cvae::testing::wait_for_file(model, 120, pid);
  ::kill(pid, saved ? sig : SIGKILL);
  const int code = cvae::testing::wait_cli(pid, 60);
  const std::string out = read_bytes(dir.file("out.txt")), err = read_bytes(dir.file("err.txt"));
  ASSERT_TRUE(saved) << "the model file never appeared\n" << out << err;
  EXPECT_EQ(code, 130) << out << err;
  EXPECT_TRUE(contains(out, "interrupted after")) << out;
  EXPECT_TRUE(contains(out, "continue with: cvae train --resume " + model)) << out;
  EXPECT_EQ(err, "") << "--progress none, and a stop is not an error";

  RunResult r = cvae::testing::run_cli({"info", "--model", model});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "resumable       yes")) << r.out;
  // No temporary file is left beside the model.
  // (The metrics file exists only if the first epoch ended before the signal.)
  auto listing = list_dir(dir.path());
  listing.erase("m.metrics.jsonl");
  EXPECT_EQ(join(listing), "err.txt, m.cvae, out.txt, toy");
}

INSTANTIATE_TEST_SUITE_P(Signals, CliStopSignal, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param == SIGTERM ? std::string("SIGTERM")
                                                     : std::string("SIGINT");
                         });

TEST(CliVariants, ConvLearnedPriorAndEachLikelihoodTrainAndGenerate) {
  TempDir dir("cvae-cli-variants");
  const std::string data = dir.file("toy");
  cvae::testing::write_toy_idx(data, 60, 15, kSize, kClasses, 2);
  for (std::string lik : {"bernoulli", "cbernoulli", "gaussian"}) {
    const std::string model = dir.file(lik + ".cvae");
    RunResult r = cvae::testing::run_cli(
        with(train_args(data, model, 2),
             {"--arch", "conv", "--conv-channels", "4,8", "--prior", "learned", "--likelihood", lik,
              "--kl-cycles", "2", "--free-bits", "0.1", "--gmm-components", "2"}));
    ASSERT_EQ(r.code, 0) << lik << "\n" << describe(r);
    r = cvae::testing::run_cli({"info", "--model", model});
    EXPECT_TRUE(contains(
        r.out, "conv encoder/decoder (channels 4,8), " + lik + " likelihood, learned prior"))
        << r.out;
    r = cvae::testing::run_cli({"generate", "--model", model, "-n", "3", "--out",
                                dir.file(lik + ".png"), "--threads", "1"});
    EXPECT_EQ(r.code, 0) << describe(r);
    EXPECT_TRUE(file_exists(dir.file(lik + ".png")));
  }
}

TEST(CliVariants, SemiSupervisedTrainsAndReportsItsClassifier) {
  TempDir dir("cvae-cli-ssl");
  const std::string data = dir.file("toy");
  cvae::testing::write_toy_idx(data, 120, 30, kSize, kClasses, 4);
  const std::string model = dir.file("ssl.cvae");
  RunResult r = cvae::testing::run_cli(with(train_args(data, model, 3), {"--labelled", "6"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(read_bytes(dir.file("ssl.metrics.jsonl")), "\"val_accuracy\""));
  r = cvae::testing::run_cli({"info", "--model", model});
  EXPECT_TRUE(contains(r.out, "semi-supervised 6 labelled")) << r.out;
  const std::string json = dir.file("e.json");
  r = cvae::testing::run_cli({"eval", "--model", model, "--data", data, "--iw-samples", "0",
                              "--threads", "1", "--json", json});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "q(y|x) accuracy")) << r.out;
  auto j = nlohmann::json::parse(read_bytes(json));
  ASSERT_TRUE(j.contains("classification_error")) << j.dump(2);
  EXPECT_NEAR(j["classification_error"].get<double>(), 1.0 - j["classifier_accuracy"].get<double>(),
              1e-12);
  // The supervised baseline: the judge on the same 6 labelled examples only.
  r = cvae::testing::run_cli({"classifier", "train", "--data", data, "--out", dir.file("b.cls"),
                              "--labelled", "6", "--epochs", "2", "--threads", "1", "--progress",
                              "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
}

}  // namespace
}  // namespace cli_test
