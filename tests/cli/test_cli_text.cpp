// The cvae CLI end to end on text: a toy TSV corpus in which each label has its
// own words (tests/support/tiny_data.h), trained, sampled, transferred,
// interpolated and evaluated by the binary, and the errors a user meets.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/tiny_data.h"

namespace {

using cvae::testing::contains;
using cvae::testing::describe;
using cvae::testing::file_exists;
using cvae::testing::read_bytes;
using cvae::testing::RunResult;
using cvae::testing::TempDir;
using cvae::testing::write_bytes;
using Args = std::vector<std::string>;

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class CliText : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("cvae-cli-text");
    cvae::testing::write_toy_text(dir_->file("train.tsv"), 240, 3, 1);
    cvae::testing::write_toy_text(dir_->file("test.tsv"), 60, 3, 2);
    train_ = new RunResult(cvae::testing::run_cli({"train",
                                                   "--data",
                                                   dir_->file("train.tsv"),
                                                   "--modality",
                                                   "text",
                                                   "--out",
                                                   model(),
                                                   "--epochs",
                                                   "25",
                                                   "--hidden",
                                                   "32",
                                                   "--embedding",
                                                   "16",
                                                   "--latent",
                                                   "4",
                                                   "--min-count",
                                                   "1",
                                                   "--kl-warmup",
                                                   "0",
                                                   "--gmm-components",
                                                   "5",
                                                   "--batch-size",
                                                   "16",
                                                   "--lr",
                                                   "0.01",
                                                   "--threads",
                                                   "1",
                                                   "--progress",
                                                   "plain"}));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete dir_;
  }
  static std::string model() { return dir_->file("toy.cvae"); }
  void SetUp() override { ASSERT_EQ(train_->code, 0) << describe(*train_); }
  static TempDir* dir_;
  static RunResult* train_;
};
TempDir* CliText::dir_ = nullptr;
RunResult* CliText::train_ = nullptr;

TEST_F(CliText, TrainReportsKlAndActiveUnits) {
  EXPECT_TRUE(contains(train_->err, "active ")) << train_->err;
  EXPECT_TRUE(contains(train_->err, "kl ")) << train_->err;
  const auto lines = lines_of(read_bytes(dir_->file("toy.metrics.jsonl")));
  ASSERT_EQ(lines.size(), 25u);
  auto last = nlohmann::json::parse(lines.back());
  EXPECT_GT(last.at("val_kl").get<double>(), 0.0);
  EXPECT_GE(last.at("active_units").get<int>(), 1);
  RunResult info = cvae::testing::run_cli({"info", "--model", model()});
  ASSERT_EQ(info.code, 0) << describe(info);
  EXPECT_TRUE(contains(info.out, "rnn encoder/decoder")) << info.out;
  EXPECT_TRUE(contains(info.out, "categorical likelihood")) << info.out;
}

TEST_F(CliText, GeneratePrintsLabelTabTextForEachLabel) {
  RunResult r = cvae::testing::run_cli(
      {"generate", "--model", model(), "--label", "all", "-n", "4", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 12u) << r.out;
  EXPECT_EQ(lines[0].rfind("blue\t", 0), 0u) << lines[0];
  EXPECT_EQ(lines[11].rfind("red\t", 0), 0u) << lines[11];
  // The red texts use the red words (w0*).
  for (size_t i = 8; i < 12; ++i) {
    EXPECT_TRUE(contains(lines[i], "w0")) << lines[i];
    EXPECT_FALSE(contains(lines[i], "w1") || contains(lines[i], "w2")) << lines[i];
  }
}

TEST_F(CliText, GenerateToTsvWithSamplingIsReproducible) {
  Args args = {"generate",
               "--model",
               model(),
               "--label",
               "green",
               "-n",
               "6",
               "--decode",
               "sample",
               "--temperature",
               "0.8",
               "--top-p",
               "0.9",
               "--seed",
               "5",
               "--threads",
               "1",
               "--out",
               dir_->file("s1.tsv")};
  RunResult a = cvae::testing::run_cli(args);
  ASSERT_EQ(a.code, 0) << describe(a);
  args.back() = dir_->file("s2.tsv");
  RunResult b = cvae::testing::run_cli(args);
  ASSERT_EQ(b.code, 0) << describe(b);
  const std::string s1 = read_bytes(dir_->file("s1.tsv"));
  EXPECT_EQ(s1, read_bytes(dir_->file("s2.tsv")));
  const auto lines = lines_of(s1);
  ASSERT_EQ(lines.size(), 6u);
  for (const auto& l : lines) EXPECT_EQ(l.rfind("green\t", 0), 0u) << l;
  // Beam search too.
  RunResult c = cvae::testing::run_cli({"generate", "--model", model(), "--label", "blue", "-n",
                                        "2", "--decode", "beam", "--beam", "3", "--threads", "1"});
  ASSERT_EQ(c.code, 0) << describe(c);
  EXPECT_EQ(lines_of(c.out).size(), 2u);
}

TEST_F(CliText, TransferATextToAnotherLabel) {
  RunResult r =
      cvae::testing::run_cli({"transfer", "--model", model(), "--text", "w0a w0b the w0c.",
                              "--to-label", "blue", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "red\tw0a w0b the w0c.");  // the inferred source label, then the text
  EXPECT_EQ(lines[1].rfind("  -> blue\t", 0), 0u) << lines[1];
  EXPECT_TRUE(contains(lines[1], "w2")) << lines[1];
  // Examples of a data file too, written as TSV.
  RunResult f = cvae::testing::run_cli(
      {"transfer", "--model", model(), "--data", dir_->file("test.tsv"), "--index", "0", "--index",
       "1", "--to-label", "all", "--out", dir_->file("t.tsv"), "--threads", "1"});
  ASSERT_EQ(f.code, 0) << describe(f);
  EXPECT_EQ(lines_of(read_bytes(dir_->file("t.tsv"))).size(), 6u);
}

TEST_F(CliText, InterpolateBetweenTwoTexts) {
  RunResult r =
      cvae::testing::run_cli({"interpolate", "--model", model(), "--from-text", "w0a w0a w0b.",
                              "--to-text", "w2c w2d w2e w2f.", "--steps", "5", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_TRUE(contains(lines.front(), "w0")) << lines.front();
  EXPECT_TRUE(contains(lines.back(), "w2")) << lines.back();
}

TEST_F(CliText, JudgeAndEvalWriteTextMetrics) {
  RunResult j = cvae::testing::run_cli({"classifier", "train", "--data", dir_->file("train.tsv"),
                                        "--min-count", "1", "--out", dir_->file("judge.cls"),
                                        "--epochs", "40", "--threads", "1", "--progress", "none"});
  ASSERT_EQ(j.code, 0) << describe(j);
  // train.tsv's test split is test.tsv beside it.
  EXPECT_TRUE(contains(j.out, "60 examples")) << j.out;
  RunResult e = cvae::testing::run_cli(
      {"eval", "--model", model(), "--data", dir_->file("test.tsv"), "--iw-samples", "10",
       "--judge", dir_->file("judge.cls"), "--samples-per-label", "20", "--transfer-examples", "20",
       "--decode", "sample", "--json", dir_->file("eval.json"), "--threads", "1"});
  ASSERT_EQ(e.code, 0) << describe(e);
  EXPECT_TRUE(contains(e.out, "word perplexity")) << e.out;
  EXPECT_TRUE(contains(e.out, "distinct-1 / -2")) << e.out;
  auto json = nlohmann::json::parse(read_bytes(dir_->file("eval.json")));
  EXPECT_EQ(json.at("decode"), "sample");
  EXPECT_GE(json.at("cond_accuracy").get<double>(), 0.9);
  EXPECT_GT(json.at("perplexity").get<double>(), 1.0);
  EXPECT_EQ(json.at("examples_per_label").size(), 3u);
}

TEST_F(CliText, UserErrorsAreClearMessages) {
  // An unknown label lists the known ones.
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "purple"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "unknown label 'purple'") && contains(r.err, "blue, green, red"))
      << r.err;
  // An image format for a text model.
  r = cvae::testing::run_cli({"generate", "--model", model(), "--format", "png"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "expected tsv")) << r.err;
  // Out-of-range decoding options.
  r = cvae::testing::run_cli(
      {"generate", "--model", model(), "--decode", "sample", "--top-p", "1.5"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "--top-p out of range")) << r.err;
  // A malformed line names the file and its line number; nothing is written.
  write_bytes(dir_->file("bad.tsv"), "red\tw0a w0b.\nno tab on this line\n");
  r = cvae::testing::run_cli({"train", "--data", dir_->file("bad.tsv"), "--out",
                              dir_->file("bad.cvae"), "--epochs", "1", "--threads", "1"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "bad.tsv") && contains(r.err, "line 2")) << r.err;
  EXPECT_FALSE(file_exists(dir_->file("bad.cvae")));
  // Invalid UTF-8.
  write_bytes(dir_->file("utf.tsv"), "red\tw0a \xff w0b.\n");
  r = cvae::testing::run_cli({"train", "--data", dir_->file("utf.tsv"), "--out",
                              dir_->file("utf.cvae"), "--epochs", "1", "--threads", "1"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "UTF-8") && contains(r.err, "line 1")) << r.err;
  // Test data with a label the model does not know.
  write_bytes(dir_->file("other.tsv"), "purple\tw0a w0b.\n");
  r = cvae::testing::run_cli(
      {"eval", "--model", model(), "--data", dir_->file("other.tsv"), "--iw-samples", "0"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "label 'purple'")) << r.err;
  // --text with an image option, an empty --text.
  r = cvae::testing::run_cli({"transfer", "--model", model(), "--text", "  ", "--to-label", "red"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "empty")) << r.err;
}

}  // namespace
