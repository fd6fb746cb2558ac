// `cvae generate` without libtorch (src/lite/): the launcher serves prior
// sampling from MLP image models itself, with the same images as the full
// program, and hands everything else (and every error) to cvae-torch.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/container.h"
#include "cvae/api.h"
#include "support/tiny_data.h"

namespace {

namespace fs = std::filesystem;
using cvae::testing::contains;
using cvae::testing::describe;
using cvae::testing::read_bytes;
using cvae::testing::TempDir;
using Args = std::vector<std::string>;

class CliLite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("cvae-lite");
    cvae::testing::write_toy_idx(dir_->path(), 120, 30);
    auto req = cvae::testing::toy_train_request(dir_->path(), dir_->file("mlp.cvae"), 2);
    req.train.gmm_components = 0;
    cvae::train(req);
    auto conv = cvae::testing::toy_train_request(dir_->path(), dir_->file("conv.cvae"), 1);
    conv.model.arch = "conv";
    conv.model.channels = {4};
    cvae::train(conv);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static Args lite_args(const std::string& out) {
    return {"generate", "--model", file("mlp.cvae"), "--label", "1,2",   "-n", "7",
            "--rerank", "1",       "--seed",         "5",       "--out", out};
  }
  static TempDir* dir_;
};
TempDir* CliLite::dir_ = nullptr;

TEST_F(CliLite, SameImagesAsTheFullProgram) {
  const auto a = cvae::testing::run_cli(lite_args(file("a.png")));
  ASSERT_EQ(a.code, 0) << describe(a);
  const auto b =
      cvae::testing::run_program(cvae::testing::torch_cli_path(), lite_args(file("b.png")));
  ASSERT_EQ(b.code, 0) << describe(b);
  EXPECT_EQ(read_bytes(file("a.png")), read_bytes(file("b.png")));
  EXPECT_TRUE(contains(a.out, "(14 samples: 7 for each of 2 label(s): 1 2)")) << a.out;
  EXPECT_EQ(a.out.substr(a.out.find('(')), b.out.substr(b.out.find('(')));
  // Another seed, other images.
  auto other = lite_args(file("c.png"));
  other[10] = "6";
  ASSERT_EQ(cvae::testing::run_cli(other).code, 0);
  EXPECT_NE(read_bytes(file("a.png")), read_bytes(file("c.png")));
  // IDX output: both files alike too.
  for (const auto& [exe, prefix] : {std::make_pair(cvae::testing::cli_path(), "ia"),
                                    std::make_pair(cvae::testing::torch_cli_path(), "ib")}) {
    const auto r = cvae::testing::run_program(
        exe, {"generate", "--model", file("mlp.cvae"), "--label", "all", "-n", "3", "--rerank", "1",
              "--format", "idx", "--out", file(std::string(prefix) + ".png")});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_TRUE(contains(r.out, file(prefix) + "-images-idx3-ubyte and " + file(prefix) +
                                    "-labels-idx1-ubyte (9 samples"))
        << r.out;
  }
  for (const char* kind : {"-images-idx3-ubyte", "-labels-idx1-ubyte"}) {
    const std::string lite = read_bytes(file(std::string("ia") + kind));
    EXPECT_FALSE(lite.empty());
    EXPECT_EQ(lite, read_bytes(file(std::string("ib") + kind))) << kind;
  }
}

TEST_F(CliLite, RunsWithoutTheFullProgramAndHandsTheRestToIt) {
  // The launcher alone, without cvae-torch beside it: the torch-free request
  // still works; one that needs the full program says what is missing.
  TempDir alone("cvae-launcher");
  const std::string exe = alone.file("cvae");
  fs::copy_file(cvae::testing::cli_path(), exe);
  const auto ok = cvae::testing::run_program(exe, lite_args(file("d.png")));
  ASSERT_EQ(ok.code, 0) << describe(ok);
  EXPECT_EQ(read_bytes(file("d.png")).empty(), false);
  Args reranked = lite_args(file("e.png"));
  reranked[8] = "4";  // --rerank 4: the encoder scores candidates, in the full program
  const auto full = cvae::testing::run_program(exe, reranked);
  EXPECT_EQ(full.code, 127) << describe(full);
  EXPECT_TRUE(contains(full.err, "cannot run '" + alone.path() + "/cvae-torch'")) << full.err;
  const auto conv = cvae::testing::run_program(
      exe, {"generate", "--model", file("conv.cvae"), "--rerank", "1", "--out", file("f.png")});
  EXPECT_EQ(conv.code, 127) << describe(conv);
}

TEST_F(CliLite, ErrorsComeFromTheFullProgram) {
  Args bad_label = lite_args(file("g.png"));
  bad_label[4] = "7";
  auto r = cvae::testing::run_cli(bad_label);
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "unknown label '7'")) << r.err;
  r = cvae::testing::run_cli({"generate", "--model", file("missing.cvae"), "--rerank", "1"});
  EXPECT_EQ(r.code, 1) << describe(r);
  EXPECT_TRUE(contains(r.err, "missing.cvae")) << r.err;
  Args bad_threads = lite_args(file("h.png"));
  bad_threads.insert(bad_threads.end(), {"--threads", "-2"});
  r = cvae::testing::run_cli(bad_threads);
  EXPECT_NE(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.err, "--threads")) << r.err;
}

TEST_F(CliLite, ReadsTheCommandLineAsTheFullProgramDoes) {
  // CLI11 reads "010" as octal 8; "--out -n" is an --out without a value. The
  // launcher hands both to the full program, so the outcome is the same.
  const Args octal = {"generate", "--model", file("mlp.cvae"), "--label",    "1", "-n", "010",
                      "--rerank", "1",       "--out",          file("o.png")};
  const auto a = cvae::testing::run_cli(octal);
  const auto b = cvae::testing::run_program(cvae::testing::torch_cli_path(), octal);
  EXPECT_EQ(a.code, b.code) << describe(a) << describe(b);
  EXPECT_EQ(a.out, b.out);
  const Args dash = {"generate", "--model", file("mlp.cvae"), "--rerank", "1", "--out", "-n", "3"};
  const auto c = cvae::testing::run_cli(dash);
  const auto d = cvae::testing::run_program(cvae::testing::torch_cli_path(), dash);
  EXPECT_NE(c.code, 0) << describe(c);
  EXPECT_EQ(c.code, d.code);
  EXPECT_EQ(c.err, d.err);
}

TEST_F(CliLite, ModelFilesCarryTheirWeightsOnceRawWhereTheSamplerApplies) {
  const auto mlp = cvae::core::read_container(file("mlp.cvae"));
  const auto conv = cvae::core::read_container(file("conv.cvae"));
  EXPECT_EQ(mlp.blobs.count("inference/weights_f32"), 1u);
  EXPECT_EQ(mlp.blobs.count("weights"), 0u);  // cvae-torch reads the raw weights too
  EXPECT_EQ(conv.blobs.count("inference/weights_f32"), 0u);
  EXPECT_EQ(conv.blobs.count("weights"), 1u);
}

}  // namespace
