// The same model file and seed give the same output as before a change: the
// commands of tests/fixtures/golden/README.md, run on its committed models,
// against the files cvae wrote with them. On the machine that made them the
// outputs were byte-identical; on another CPU the last bits of a matrix
// product may differ, so images may differ by one grey level in a few pixels
// (a value that lands on a rounding boundary) and a sampled text may take
// another word where two were almost equally likely: the checks allow that
// much and no more.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "io/idx.h"
#include "io/png.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::describe;
using testing::read_bytes;
using testing::run_cli;
using testing::RunResult;

std::string golden(const std::string& name) {
  return std::string(CVAE_TEST_FIXTURES) + "/golden/" + name;
}

// Pixels of two byte images: equal in size, within 1 level everywhere, and at
// most 1% of them off at all.
void expect_same_pixels(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t off = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const int d = std::abs(int(got[i]) - int(want[i]));
    ASSERT_LE(d, 1) << what << " at byte " << i;
    off += d != 0;
  }
  EXPECT_LE(off, want.size() / 100) << what << ": " << off << " values off by one";
}

void expect_same_png(const std::string& got, const std::string& want_name) {
  const auto a = io::read_png(got), b = io::read_png(golden(want_name));
  EXPECT_EQ(a.height, b.height) << want_name;
  EXPECT_EQ(a.width, b.width) << want_name;
  EXPECT_EQ(a.channels, b.channels) << want_name;
  expect_same_pixels(a.pixels, b.pixels, want_name);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The same number of lines, the same label on each, and at least 80% of the
// lines identical.
void expect_same_tsv(const std::string& got, const std::string& want_name) {
  const auto a = lines(read_bytes(got)), b = lines(read_bytes(golden(want_name)));
  ASSERT_EQ(a.size(), b.size()) << want_name;
  ASSERT_FALSE(b.empty()) << want_name;
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].substr(0, a[i].find('\t')), b[i].substr(0, b[i].find('\t')))
        << want_name << " line " << i + 1;
    same += a[i] == b[i];
  }
  EXPECT_GE(same * 5, a.size() * 4)
      << want_name << ": " << same << " of " << a.size() << " lines identical";
}

class CliGolden : public ::testing::Test {
 protected:
  void run(const std::vector<std::string>& args) {
    RunResult r = run_cli(args);
    ASSERT_EQ(r.code, 0) << describe(r);
  }
  std::string out(const std::string& name) { return dir_.file(name); }
  testing::TempDir dir_{"cvae-golden"};
};

TEST_F(CliGolden, ImagesFromTheConvModel) {
  run({"generate", "--model", golden("conv.cvae"), "--label", "all", "-n", "4", "--out",
       out("grid.png")});
  expect_same_png(out("grid.png"), "conv-grid.png");
  run({"generate", "--model", golden("conv.cvae"), "--label", "1", "-n", "6", "--format", "idx",
       "--out", out("samples")});
  expect_same_pixels(io::read_idx(out("samples-images-idx3-ubyte")).data,
                     io::read_idx(golden("conv-samples-images-idx3-ubyte")).data, "idx samples");
  run({"transfer", "--model", golden("conv.cvae"), "--data", golden("toy"), "--index", "0",
       "--index", "1", "--index", "2", "--to-label", "all", "--out", out("transfer.png")});
  expect_same_png(out("transfer.png"), "conv-transfer.png");
  run({"interpolate", "--model", golden("conv.cvae"), "--label", "0", "--to-label", "2", "--steps",
       "5", "--out", out("interp.png")});
  expect_same_png(out("interp.png"), "conv-interp.png");
}

TEST_F(CliGolden, ImagesFromTheMlpModelWithAndWithoutLibtorch) {
  run({"generate", "--model", golden("mlp.cvae"), "--label", "all", "-n", "5", "--out",
       out("lite.png")});
  expect_same_png(out("lite.png"), "mlp-lite.png");
  RunResult r = testing::run_program(
      testing::torch_cli_path(), {"generate", "--model", golden("mlp.cvae"), "--label", "all", "-n",
                                  "5", "--rerank", "1", "--out", out("torch.png")});
  ASSERT_EQ(r.code, 0) << describe(r);
  expect_same_png(out("torch.png"), "mlp-torch.png");
}

TEST_F(CliGolden, TextsFromTheTextModel) {
  run({"generate", "--model", golden("text.cvae"), "--label", "all", "-n", "5", "--out",
       out("text.tsv")});
  expect_same_tsv(out("text.tsv"), "text.tsv");
  run({"transfer", "--model", golden("text.cvae"), "--text", "ra rb the .", "--to-label", "all",
       "--out", out("transfer.tsv")});
  expect_same_tsv(out("transfer.tsv"), "text-transfer.tsv");
}

// The committed models were written before model files named their modality:
// it is inferred (a vocabulary: text; else images), they load, and info says so.
TEST_F(CliGolden, OlderFilesInferTheirModality) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"conv.cvae", "image"}, {"mlp.cvae", "image"}, {"text.cvae", "text"}};
  for (const auto& [file, modality] : files) {
    RunResult r = run_cli({"info", "--model", golden(file)});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("modality        " + modality + " (inferred"), std::string::npos)
        << file << ":\n"
        << r.out;
    r = run_cli({"info", "--model", golden(file), "--json"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("\"modality_inferred\": true"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace cvae
