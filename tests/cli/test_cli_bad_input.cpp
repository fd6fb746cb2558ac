// Bad input to every sub-command (CliBadInput): a clean error, and nothing written or overwritten.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_fixtures.h"

namespace cli_test {
namespace {

TEST_F(CliBadInput, MissingDataDir) {
  const std::string missing = out("no-such-dir");
  expect_train_error(small_train(missing), {"does not exist", missing});
  REQUIRE_SHARED_MODEL();
  RunResult r = cvae::testing::run_cli({"eval", "--model", shared().model, "--data", missing});
  EXPECT_TRUE(CleanError(r, {"does not exist", missing}));
  r = cvae::testing::run_cli(
      {"transfer", "--model", shared().model, "--data", missing, "--out", out("t.png")});
  EXPECT_TRUE(CleanError(r, {"does not exist"}));
  EXPECT_FALSE(file_exists(out("t.png")));
}

TEST_F(CliBadInput, DataIsAFile) {
  write_bytes(out("file"), "not a directory");
  expect_train_error(small_train(out("file")), {"not a directory"});
}

TEST_F(CliBadInput, TruncatedImagesFile) {
  const std::string data = out("toy");
  cvae::testing::write_toy_idx(data, 60, 15);
  const std::string images = data + "/train-images-idx3-ubyte";
  const std::string bytes = read_bytes(images);
  write_bytes(images, bytes.substr(0, bytes.size() / 2));
  expect_train_error(small_train(data), {"truncated", "train-images-idx3-ubyte"});
}

TEST_F(CliBadInput, TruncatedTestImagesForEval) {
  REQUIRE_SHARED_MODEL();
  const std::string data = out("toy");
  cvae::testing::write_toy_idx(data, 60, 15);
  const std::string images = data + "/t10k-images-idx3-ubyte";
  write_bytes(images, read_bytes(images).substr(0, 100));
  RunResult r = cvae::testing::run_cli(
      {"eval", "--model", shared().model, "--data", data, "--json", out("e.json")});
  EXPECT_TRUE(CleanError(r, {"truncated", "t10k-images-idx3-ubyte"}));
  EXPECT_FALSE(file_exists(out("e.json")));
}

TEST_F(CliBadInput, ImageAndLabelCountsDiffer) {
  const std::string data = out("toy"), other = out("other");
  cvae::testing::write_toy_idx(data, 60, 15);
  cvae::testing::write_toy_idx(other, 50, 15);
  write_bytes(data + "/train-labels-idx1-ubyte", read_bytes(other + "/train-labels-idx1-ubyte"));
  expect_train_error(small_train(data), {"counts differ", "60", "50"});
}

TEST_F(CliBadInput, EmptyDataDir) {
  fs::create_directories(out("empty"));
  RunResult r = cvae::testing::run_cli(small_train(out("empty")) + Args{"--out", out("m.cvae")});
  EXPECT_TRUE(CleanError(r, {}));
  EXPECT_FALSE(file_exists(out("m.cvae")));
}

// The commands that read a model file, on a bad one: a clean error, no output. With
// thorough, every command that reads one (they share the loader, so the others check
// the common three only).
void expect_model_rejected(const std::string& model, const std::string& data, const TempDir& dir,
                           const std::vector<std::string>& needles, bool thorough = false) {
  RunResult r = cvae::testing::run_cli({"info", "--model", model, "--json"});
  EXPECT_TRUE(CleanError(r, needles)) << "info --json";
  EXPECT_EQ(r.out, "");
  r = cvae::testing::run_cli({"generate", "--model", model, "--out", dir.file("g.png")});
  EXPECT_TRUE(CleanError(r, needles)) << "generate";
  EXPECT_FALSE(file_exists(dir.file("g.png")));
  r = cvae::testing::run_cli(
      {"eval", "--model", model, "--data", data, "--json", dir.file("e.json")});
  EXPECT_TRUE(CleanError(r, needles)) << "eval";
  EXPECT_FALSE(file_exists(dir.file("e.json")));
  if (!thorough) return;
  r = cvae::testing::run_cli({"info", "--model", model});
  EXPECT_TRUE(CleanError(r, needles)) << "info";
  r = cvae::testing::run_cli(
      {"transfer", "--model", model, "--data", data, "--out", dir.file("t.png")});
  EXPECT_TRUE(CleanError(r, needles)) << "transfer";
  EXPECT_FALSE(file_exists(dir.file("t.png")));
  r = cvae::testing::run_cli(
      {"interpolate", "--model", model, "--label", "0", "--out", dir.file("i.png")});
  EXPECT_TRUE(CleanError(r, needles)) << "interpolate";
  EXPECT_FALSE(file_exists(dir.file("i.png")));
  // Resuming from it fails too, and leaves it as it was.
  const std::string before = read_bytes(model);
  r = cvae::testing::run_cli({"train", "--resume", model, "--data", data, "--progress", "none"});
  EXPECT_TRUE(CleanError(r, needles)) << "train --resume";
  EXPECT_TRUE(read_bytes(model) == before);
}

TEST_F(CliBadInput, RandomBytesAsModel) {
  REQUIRE_SHARED_MODEL();
  std::string junk(4096, '\0');
  uint64_t x = 88172645463325252ULL;
  for (auto& ch : junk) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>(x & 0xff);
  }
  write_bytes(out("junk.cvae"), junk);
  expect_model_rejected(out("junk.cvae"), shared().data, *work_, {"not a cvae model file"});
}

TEST_F(CliBadInput, CorruptModelBody) {
  REQUIRE_SHARED_MODEL();
  std::string bytes = read_bytes(shared().model);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  write_bytes(out("flipped.cvae"), bytes);
  expect_model_rejected(out("flipped.cvae"), shared().data, *work_, {"corrupt", "flipped.cvae"},
                        /*thorough=*/true);
}

TEST_F(CliBadInput, TruncatedModel) {
  REQUIRE_SHARED_MODEL();
  const std::string bytes = read_bytes(shared().model);
  write_bytes(out("half.cvae"), bytes.substr(0, bytes.size() / 2));
  expect_model_rejected(out("half.cvae"), shared().data, *work_, {"truncated", "half.cvae"},
                        /*thorough=*/true);
}

TEST_F(CliBadInput, EmptyModelFile) {
  REQUIRE_SHARED_MODEL();
  write_bytes(out("empty.cvae"), "");
  expect_model_rejected(out("empty.cvae"), shared().data, *work_, {"not a cvae model file"});
}

TEST_F(CliBadInput, PngAsModel) {
  REQUIRE_SHARED_MODEL();
  RunResult r = cvae::testing::run_cli({"generate", "--model", shared().model, "-n", "2", "--out",
                                        out("real.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_model_rejected(out("real.png"), shared().data, *work_,
                        {"not a cvae model file", "real.png"});
}

TEST_F(CliBadInput, MissingModelAndDirectoryAsModel) {
  REQUIRE_SHARED_MODEL();
  RunResult r = cvae::testing::run_cli({"info", "--model", out("nope.cvae")});
  EXPECT_TRUE(CleanError(r, {"nope.cvae"}));
  r = cvae::testing::run_cli({"generate", "--model", work_->path(), "--out", out("g.png")});
  EXPECT_TRUE(CleanError(r, {"directory"}));
  EXPECT_FALSE(file_exists(out("g.png")));
}

TEST_F(CliBadInput, UnknownLabelListsTheKnownOnes) {
  REQUIRE_SHARED_MODEL();
  const std::string m = shared().model;
  RunResult r =
      cvae::testing::run_cli({"generate", "--model", m, "--label", "42", "--out", out("g.png")});
  EXPECT_TRUE(CleanError(r, {"unknown label '42'", "0, 1, 2"}));
  EXPECT_FALSE(file_exists(out("g.png")));
  r = cvae::testing::run_cli({"generate", "--model", m, "--label", "1,cat", "--out", out("g.png")});
  EXPECT_TRUE(CleanError(r, {"unknown label 'cat'"}));
  r = cvae::testing::run_cli(
      {"interpolate", "--model", m, "--label", "0", "--to-label", "42", "--out", out("i.png")});
  EXPECT_TRUE(CleanError(r, {"unknown label '42'"}));
  EXPECT_FALSE(file_exists(out("i.png")));
  r = cvae::testing::run_cli({"transfer", "--model", m, "--data", shared().data, "--to-label", "42",
                              "--out", out("t.png")});
  EXPECT_TRUE(CleanError(r, {"unknown label '42'"}));
  EXPECT_FALSE(file_exists(out("t.png")));
}

TEST_F(CliBadInput, TrainOptionsOutOfRange) {
  ASSERT_EQ(shared().train.code, 0);
  const std::string data = shared().data;
  expect_train_error(with(small_train(data), Args{"--lr", "-1"}), {"--lr", "-1"});
  expect_train_error(with(small_train(data), Args{"--lr", "nan"}), {"--lr"});
  expect_train_error(with(small_train(data), Args{"--epochs", "0"}), {"--epochs", "0"});
  expect_train_error(with(small_train(data), Args{"--latent", "0"}), {"latent", "0"});
  expect_train_error(with(small_train(data), Args{"--batch-size", "0"}), {"--batch-size", "0"});
  expect_train_error(with(small_train(data), Args{"--hidden", "12,x"}), {"--hidden", "12,x"});
  expect_train_error(with(small_train(data), Args{"--hidden", "0"}), {"hidden", "0"});
  expect_train_error(with(small_train(data), Args{"--val-fraction", "0.95"}), {"--val-fraction"});
  expect_train_error(with(small_train(data), Args{"--beta", "-1"}), {"--beta"});
}

TEST_F(CliBadInput, TrainUsageErrors) {
  ASSERT_EQ(shared().train.code, 0);
  // Not a number: CLI11's own parse error (its code, not a crash).
  expect_train_error(small_train(shared().data) + Args{"--epochs", "abc"}, {"--epochs"}, true);
  // The same option twice.
  expect_train_error(small_train(shared().data) + Args{"--epochs", "1", "--epochs", "2"},
                     {"--epochs"}, true);
  // Neither --out nor --resume.
  RunResult r = cvae::testing::run_cli(small_train(shared().data));
  EXPECT_TRUE(CleanError(r, {"--out"}));
  // --data is required.
  r = cvae::testing::run_cli({"train", "--out", out("m.cvae")});
  EXPECT_TRUE(UsageError(r, {"--data"}));
  EXPECT_FALSE(file_exists(out("m.cvae")));
  // An unknown sub-command and no sub-command.
  EXPECT_TRUE(UsageError(cvae::testing::run_cli({"frobnicate"}), {}));
  EXPECT_TRUE(UsageError(cvae::testing::run_cli({}), {"subcommand"}));
  EXPECT_TRUE(UsageError(cvae::testing::run_cli({"generate", "--model", shared().model, "--bogus"}),
                         {"--bogus"}));
}

TEST_F(CliBadInput, GenerateOptionsOutOfRange) {
  REQUIRE_SHARED_MODEL();
  const std::string m = shared().model, png = out("g.png");
  auto gen = [&](const Args& extra) {
    return cvae::testing::run_cli(Args{"generate", "--model", m, "--out", png} + extra);
  };
  EXPECT_TRUE(CleanError(gen({"-n", "0"}), {"-n", "0"}));
  EXPECT_TRUE(CleanError(gen({"-n", "-3"}), {"-n", "-3"}));
  EXPECT_TRUE(CleanError(gen({"--temperature", "-2"}), {"--temperature", "-2"}));
  EXPECT_TRUE(CleanError(gen({"--temperature", "nan"}), {"--temperature"}));
  // A format no modality writes: the model's modality says which it writes.
  EXPECT_TRUE(CleanError(gen({"--format", "jpeg"}), {"--format jpeg", "png, idx"}));
  EXPECT_FALSE(file_exists(png));
  auto interp = [&](const Args& extra) {
    return cvae::testing::run_cli(Args{"interpolate", "--model", m, "--label", "0", "--out", png} +
                                  extra);
  };
  EXPECT_TRUE(CleanError(interp({"--steps", "1"}), {"--steps", "1"}));
  EXPECT_TRUE(CleanError(interp({"--rows", "0"}), {"--rows", "0"}));
  EXPECT_FALSE(file_exists(png));
}

TEST_F(CliBadInput, EvalAndTransferOptionsOutOfRange) {
  REQUIRE_SHARED_MODEL();
  const std::string m = shared().model, d = shared().data;
  RunResult r = cvae::testing::run_cli(
      {"eval", "--model", m, "--data", d, "--iw-samples", "-5", "--json", out("e.json")});
  EXPECT_TRUE(CleanError(r, {"--iw-samples", "-5"}));
  r = cvae::testing::run_cli({"eval", "--model", m, "--data", d, "--batch-size", "0"});
  EXPECT_TRUE(CleanError(r, {"--batch-size", "0"}));
  r = cvae::testing::run_cli({"eval", "--model", m, "--data", d, "--split", "nope"});
  EXPECT_TRUE(CleanError(r, {"--split", "nope"}));
  EXPECT_FALSE(file_exists(out("e.json")));
  r = cvae::testing::run_cli(
      {"transfer", "--model", m, "--data", d, "--index", "99999", "--out", out("t.png")});
  EXPECT_TRUE(CleanError(r, {"--index", "99999"}));
  r = cvae::testing::run_cli(
      {"transfer", "--model", m, "--data", d, "--index", "-1", "--out", out("t.png")});
  EXPECT_TRUE(CleanError(r, {"--index", "-1"}));
  EXPECT_FALSE(file_exists(out("t.png")));
}

// Data of another shape than the model's: a clean error naming both shapes.
TEST_F(CliBadInput, DataOfAnotherShape) {
  REQUIRE_SHARED_MODEL();
  const std::string data = out("big");
  cvae::testing::write_toy_idx(data, 30, 12, 12, 3, 2);
  RunResult r = cvae::testing::run_cli({"eval", "--model", shared().model, "--data", data});
  EXPECT_TRUE(CleanError(r, {"1x12x12", "1x8x8"}));
  const std::string prev = out("prev.cvae");
  const std::string bytes = read_bytes(shared().model);
  write_bytes(prev, bytes);
  r = cvae::testing::run_cli(
      {"train", "--resume", prev, "--data", data, "--epochs", "6", "--progress", "none"});
  EXPECT_TRUE(CleanError(r, {"1x12x12", "1x8x8"}));
  EXPECT_TRUE(read_bytes(prev) == bytes);
}

// An output path whose parent is a regular file cannot be created.
TEST_F(CliBadInput, OutputUnderARegularFile) {
  REQUIRE_SHARED_MODEL();
  const std::string m = shared().model, d = shared().data;
  write_bytes(out("file"), "x");
  const std::string bad = out("file") + "/sub";
  // A good output first, which the failing runs must not touch.
  RunResult r = cvae::testing::run_cli(
      {"generate", "--model", m, "--out", out("good.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string good = read_bytes(out("good.png"));
  const auto before = list_dir(work_->path());

  r = cvae::testing::run_cli(small_train(d) + Args{"--out", bad + "/m.cvae"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  r = cvae::testing::run_cli({"generate", "--model", m, "--out", bad + "/g.png"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  r = cvae::testing::run_cli({"generate", "--model", m, "--format", "idx", "--out", bad + "/p"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  r = cvae::testing::run_cli(
      {"eval", "--model", m, "--data", d, "--iw-samples", "0", "--json", bad + "/e.json"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  r = cvae::testing::run_cli({"transfer", "--model", m, "--data", d, "--out", bad + "/t.png"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  r = cvae::testing::run_cli(
      {"interpolate", "--model", m, "--label", "0", "--out", bad + "/i.png"});
  EXPECT_TRUE(CleanError(r, {"file/sub"}));
  // An output that is an existing directory.
  fs::create_directories(out("dir.png"));
  r = cvae::testing::run_cli({"generate", "--model", m, "--out", out("dir.png")});
  EXPECT_TRUE(CleanError(r, {"dir.png"}));
  r = cvae::testing::run_cli(small_train(d) + Args{"--out", out("dir.png")});
  EXPECT_TRUE(CleanError(r, {"dir.png", "directory"}));
  EXPECT_TRUE(fs::is_directory(out("dir.png")));
  EXPECT_TRUE(fs::is_empty(out("dir.png")));

  EXPECT_TRUE(read_bytes(out("good.png")) == good);
  auto after = list_dir(work_->path());
  after.erase("dir.png");
  EXPECT_EQ(join(after), join(before));
}

// A full disk, simulated with RLIMIT_FSIZE in the child (writes past the limit fail
// with EFBIG): a clean error and the previous file byte-identical, no temporary left.
TEST_F(CliBadInput, DiskFullKeepsThePreviousFiles) {
  REQUIRE_SHARED_MODEL();
  const std::string m = shared().model, d = shared().data;
  const std::string model_bytes = read_bytes(m);
  ASSERT_GT(model_bytes.size(), 4096u);

  TempDir tdir("cvae-cli-full");
  const std::string prev = tdir.file("prev.cvae");
  write_bytes(prev, model_bytes);
  RunResult r = cvae::testing::run_cli_file_limit(
      small_train(d) + Args{"--out", prev, "--metrics", out("metrics.jsonl")}, 4096);
  EXPECT_TRUE(CleanError(r, {"cannot write", "prev.cvae"}));
  EXPECT_TRUE(read_bytes(prev) == model_bytes) << "the previous model file was changed";
  EXPECT_EQ(join(list_dir(tdir.path())), "prev.cvae");

  // generate over an existing PNG, and eval over an existing JSON.
  r = cvae::testing::run_cli({"generate", "--model", m, "-n", "100", "--label", "all", "--out",
                              out("g.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  const std::string png = read_bytes(out("g.png"));
  ASSERT_GT(png.size(), 200u);
  r = cvae::testing::run_cli_file_limit({"generate", "--model", m, "-n", "100", "--label", "all",
                                         "--seed", "9", "--out", out("g.png"), "--threads", "1"},
                                        100);
  EXPECT_TRUE(CleanError(r, {"g.png"}));
  EXPECT_TRUE(read_bytes(out("g.png")) == png) << "the previous PNG was changed";

  write_bytes(out("e.json"), "previous");
  r = cvae::testing::run_cli_file_limit(
      {"eval", "--model", m, "--data", d, "--iw-samples", "0", "--json", out("e.json")}, 50);
  EXPECT_TRUE(CleanError(r, {"e.json"}));
  EXPECT_EQ(read_bytes(out("e.json")), "previous");
  for (const auto& name : list_dir(work_->path())) {
    EXPECT_FALSE(contains(name, ".tmp")) << "temporary file left: " << name;
  }
}

TEST_F(CliBadInput, JudgeSamplerAndVariantErrors) {
  REQUIRE_SHARED_MODEL();
  const std::string data = shared().data;
  expect_train_error(small_train(data) + Args{"--kl-cycles", "2", "--kl-warmup", "1"},
                     {"--kl-cycles", "--kl-warmup"});
  expect_train_error(small_train(data) + Args{"--free-bits", "-2"}, {"--free-bits"});
  expect_train_error(small_train(data) + Args{"--gmm-components", "5000"}, {"--gmm-components"});
  expect_train_error(small_train(data) + Args{"--arch", "conv", "--conv-channels", "4,4,4,4"},
                     {"too small", "8x8"});
  expect_train_error(small_train(data) + Args{"--arch", "transformer"}, {"--arch"}, true);
  expect_train_error(small_train(data) + Args{"--labelled", "100000"}, {"--labelled"});
  // No mixture in the file: --sampler gmm says so; auto falls back to the prior.
  const std::string plain = out("plain.cvae");
  RunResult r = cvae::testing::run_cli(with(train_args(data, plain, 1), {"--gmm-components", "0"}));
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli(
      {"generate", "--model", plain, "--sampler", "gmm", "--out", out("g.png")});
  EXPECT_TRUE(CleanError(r, {"no latent mixture", "--sampler prior"}));
  EXPECT_FALSE(file_exists(out("g.png")));
  r = cvae::testing::run_cli({"generate", "--model", plain, "--out", out("a.png")});
  EXPECT_EQ(r.code, 0) << describe(r);
  // A model where a judge is expected, and a judge where a model is expected.
  r = cvae::testing::run_cli(
      {"eval", "--model", plain, "--data", data, "--judge", plain, "--iw-samples", "0"});
  EXPECT_TRUE(CleanError(r, {"not a cvae classifier file"}));
  const std::string judge = out("j.cls");
  r = cvae::testing::run_cli({"classifier", "train", "--data", data, "--out", judge, "--epochs",
                              "1", "--threads", "1", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli({"generate", "--model", judge, "--out", out("x.png")});
  EXPECT_TRUE(CleanError(r, {"classifier file", "not a model file"}));
  r = cvae::testing::run_cli({"eval", "--model", plain, "--data", data, "--judge", judge,
                              "--samples-per-label", "1", "--iw-samples", "0"});
  EXPECT_TRUE(CleanError(r, {"--samples-per-label"}));
  r = cvae::testing::run_cli(
      {"classifier", "train", "--data", data, "--out", out("k.cls"), "--epochs", "-1"});
  EXPECT_TRUE(CleanError(r, {"--epochs"}));
  EXPECT_FALSE(file_exists(out("k.cls")));
  // A judge of another image shape.
  const std::string other = out("other");
  cvae::testing::write_toy_idx(other, 30, 9, 6, kClasses, 1);
  const std::string judge6 = out("j6.cls");
  r = cvae::testing::run_cli({"classifier", "train", "--data", other, "--out", judge6, "--epochs",
                              "1", "--threads", "1", "--progress", "none"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli(
      {"eval", "--model", plain, "--data", data, "--judge", judge6, "--iw-samples", "0"});
  EXPECT_TRUE(CleanError(r, {"shape", "1x6x6"}));
}

}  // namespace
}  // namespace cli_test
