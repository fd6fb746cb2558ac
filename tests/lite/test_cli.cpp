// The launcher's torch-free `cvae generate` (src/lite/cli.cpp), in process, on
// model files built here by hand: a decoder whose images are known in closed
// form (label k lights column k), so that a served request's output can be
// checked pixel by pixel; and every request it must leave to the full
// program (nullopt) without writing anything. The same path through the
// binaries, against cvae-torch, is tests/cli/test_cli_lite.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/config_json.h"
#include "core/container.h"
#include "cvae/config.h"
#include "io/idx.h"
#include "io/png.h"
#include "lite/cli.h"
#include "lite/raw_tensors.h"
#include "support/lite/temp_dir.h"

namespace cvae::lite {
namespace {

constexpr int64_t kZ = 2, kC = 3, kH = 4, kRows = 2, kCols = 3;

ModelConfig image_model() {
  ModelConfig m;
  m.modality = "image";
  m.arch = "mlp";
  m.likelihood = "bernoulli";
  m.prior = "standard";
  m.input_shape = {1, kRows, kCols};
  m.hidden = {kH};
  m.latent = kZ;
  m.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  return m;
}

// The decoder's weights: hidden unit k = the one-hot of label k (z is ignored),
// and pixel j's logit = 40 h_(j % 3) - 20: label k's pixels (column k) have
// logit +20 (byte 255), the others -20 (byte 0). `out_rows` bends the output
// layer's shape (the file's features) to make a mismatch.
std::vector<RawTensor> decoder_weights(const ModelConfig& m, int64_t out_rows = -1) {
  int64_t features = 1;
  for (int64_t s : m.input_shape) features *= s;
  if (out_rows < 0) out_rows = features;
  RawTensor w0{"decoder.layers.0.weight", {kH, kZ + kC}, std::vector<float>(kH * (kZ + kC), 0)};
  for (int64_t k = 0; k < kC; ++k) w0.values[k * (kZ + kC) + kZ + k] = 1;
  RawTensor b0{"decoder.layers.0.bias", {kH}, std::vector<float>(kH, 0)};
  RawTensor w1{"decoder.out.weight", {out_rows, kH}, std::vector<float>(out_rows * kH, 0)};
  for (int64_t j = 0; j < out_rows; ++j) w1.values[j * kH + j % kC] = 40;
  RawTensor b1{"decoder.out.bias", {out_rows}, std::vector<float>(out_rows, -20)};
  std::vector<RawTensor> out = {w0, b0, w1, b1};
  if (m.prior == "learned") {  // a prior network of zeros: N(0, I) again
    out.push_back({"prior.hidden.weight", {128, kC}, std::vector<float>(128 * kC, 0)});
    out.push_back({"prior.hidden.bias", {128}, std::vector<float>(128, 0)});
    for (const char* head : {"prior.mu_head", "prior.logvar_head"}) {
      out.push_back({std::string(head) + ".weight", {kZ, 128}, std::vector<float>(kZ * 128, 0)});
      out.push_back({std::string(head) + ".bias", {kZ}, std::vector<float>(kZ, 0)});
    }
  }
  return out;
}

core::Container model_container(const ModelConfig& m) {
  core::Container c;
  c.header = {{"program", "cvae"},
              {"kind", "model"},
              {"model", m},
              {"train", TrainConfig{}},
              {"state", nlohmann::json::object()}};
  c.blobs["weights"] = "torch weights (not read here)";
  c.blobs["inference/weights_f32"] = encode_raw_tensors(decoder_weights(m));
  return c;
}

struct Served {
  std::optional<int> status;
  std::string out, err;
};

Served run(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"cvae"};
  for (const auto& a : args) argv.push_back(a.c_str());
  Served s;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  s.status = try_generate(static_cast<int>(argv.size()), argv.data());
  s.err = ::testing::internal::GetCapturedStderr();
  s.out = ::testing::internal::GetCapturedStdout();
  return s;
}

class LiteGenerate : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.file("m.cvae");
    core::write_container(model_, model_container(image_model()));
  }
  // A request this path serves, plus `extra`.
  std::vector<std::string> request(std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"generate",  "--model", model_,  "--rerank", "1",
                                  "--threads", "1",       "--out", out()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string out() const { return dir_.file("s.png"); }
  // Expects the request to be left to the full program, with nothing written.
  void expect_not_served(const std::vector<std::string>& args) const {
    const Served s = run(args);
    EXPECT_FALSE(s.status.has_value()) << "served with status " << s.status.value_or(-1);
    EXPECT_FALSE(core::path_exists(out()));
    EXPECT_EQ(s.out, "");
    EXPECT_EQ(s.err, "");
  }

  testing::TempDir dir_{"cvae-lite-cli"};
  std::string model_;
};

// Tile (r, c) of a grid of 2 x 3 images with 2 pixels of padding.
uint8_t grid_pixel(const io::Image& g, int64_t r, int64_t c, int64_t y, int64_t x) {
  const int64_t top = 2 + r * (kRows + 2), left = 2 + c * (kCols + 2);
  return g.pixels.at(static_cast<size_t>((top + y) * g.width + left + x));
}

TEST_F(LiteGenerate, ServesAPngOfTheDecodersMeans) {
  const Served s = run(request({"--label", "all", "-n", "2", "--seed", "5"}));
  ASSERT_EQ(s.status, std::optional<int>(0)) << s.err;
  EXPECT_EQ(s.out, "wrote " + out() + " (6 samples: 2 for each of 3 label(s): a b c)\n");
  const io::Image g = io::read_png(out());
  ASSERT_EQ(g.channels, 1);
  ASSERT_EQ(g.height, 3 * kRows + 4 * 2);  // one row per label
  ASSERT_EQ(g.width, 2 * kCols + 3 * 2);   // n per row
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t y = 0; y < kRows; ++y)
        for (int64_t x = 0; x < kCols; ++x)
          EXPECT_EQ(grid_pixel(g, r, c, y, x), x == r ? 255 : 0)
              << "label " << r << " sample " << c << " pixel " << y << "," << x;
  EXPECT_EQ(g.pixels.front(), 128);  // the padding
}

TEST_F(LiteGenerate, ServesIdxWithLabelsAndTheLearnedPrior) {
  ModelConfig m = image_model();
  m.prior = "learned";
  core::write_container(model_, model_container(m));
  const std::string prefix = dir_.file("x");
  const Served s = run({"generate", "--model=" + model_, "--label=c,a", "--count=2", "--rerank=1",
                        "--format=idx", "--out=" + prefix + ".png"});
  ASSERT_EQ(s.status, std::optional<int>(0)) << s.err;
  EXPECT_EQ(s.out, "wrote " + prefix + "-images-idx3-ubyte and " + prefix +
                       "-labels-idx1-ubyte (4 samples: 2 for each of 2 label(s): c a)\n");
  const io::ImageLabelSet set =
      io::read_idx_pair(prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte");
  EXPECT_EQ(set.n, 4);
  EXPECT_EQ(set.height, kRows);
  EXPECT_EQ(set.width, kCols);
  EXPECT_EQ(set.labels, (std::vector<uint8_t>{2, 2, 0, 0}));
  const std::vector<uint8_t> c = {0, 0, 255, 0, 0, 255}, a = {255, 0, 0, 255, 0, 0};
  std::vector<uint8_t> want;
  for (const auto* img : {&c, &c, &a, &a}) want.insert(want.end(), img->begin(), img->end());
  EXPECT_EQ(set.pixels, want);
}

TEST_F(LiteGenerate, ServesPriorWhenTheFileHasAMixture) {
  core::Container c = model_container(image_model());
  c.blobs["sampler/latent_mixture"] = "gmm";
  core::write_container(model_, c);
  expect_not_served(request({"-n", "1"}));  // auto means the mixture: the full program's
  EXPECT_EQ(run(request({"-n", "1", "--sampler", "prior"})).status, std::optional<int>(0));
}

TEST_F(LiteGenerate, TwoChannelsOnlyAsIdx) {
  ModelConfig m = image_model();
  m.input_shape = {2, 1, kCols};  // still 6 features
  core::write_container(model_, model_container(m));
  expect_not_served(request({"-n", "1"}));  // PNG holds 1 or 3 channels
  const Served s = run(request({"-n", "1", "--label", "b", "--format", "idx"}));
  ASSERT_EQ(s.status, std::optional<int>(0)) << s.err;
  const io::IdxArray images = io::read_idx(dir_.file("s-images-idx3-ubyte"));
  EXPECT_EQ(images.dims, (std::vector<int64_t>{1, 2, 1, kCols}));
  EXPECT_EQ(images.data, (std::vector<uint8_t>{0, 255, 0, 0, 255, 0}));
}

TEST_F(LiteGenerate, AFailureAfterDecidingIsReportedHere) {
  core::write_file_atomic(dir_.file("f"), std::string("a file"));
  const std::string blocked = dir_.file("f/s.png");
  std::vector<std::string> args = request({"-n", "1"});
  args[8] = blocked;  // the --out value
  const Served s = run(args);
  EXPECT_EQ(s.status, std::optional<int>(1));
  EXPECT_EQ(s.err.rfind("error: cannot create directory '" + dir_.file("f") + "'", 0), 0u) << s.err;
}

TEST_F(LiteGenerate, OtherCommandsAndCommandLineShapesAreNotServed) {
  expect_not_served({});
  expect_not_served({"generate"});
  expect_not_served({"train", "--model", model_});
  expect_not_served({"info", "--model", model_});
  expect_not_served(request({"--"}));
  expect_not_served(request({"-n4"}));
  expect_not_served(request({"--label="}));
  expect_not_served(request({"--help"}));
  expect_not_served(request({"-n", "2", "-n", "3"}));  // twice
  expect_not_served(request({"--out", "-x.png"}));     // a value that looks like an option
  expect_not_served(request({"--sample-pixels"}));     // a flag
  expect_not_served(request({"--sample-pixels", "-n", "2"}));
  expect_not_served(request({"--label", "a", "b"}));  // two values
}

TEST_F(LiteGenerate, OptionsAndValuesItDoesNotReadAreNotServed) {
  expect_not_served(request({"--decode", "greedy"}));
  expect_not_served(request({"--top-k", "3"}));
  expect_not_served(request({"--sampler", "gmm"}));
  expect_not_served(request({"--format", "tsv"}));
  expect_not_served(request({"-n", "010"}));  // CLI11 reads octal
  expect_not_served(request({"-n", "0x10"}));
  expect_not_served(request({"--seed", "-1"}));
  expect_not_served(request({"--temperature", "1e400"}));
  expect_not_served(request({"--threads", "1025"}));
  // --rerank -1 (the default) is 16 candidates for images: they need the encoder.
  expect_not_served({"generate", "--model", model_, "--out", out()});
  expect_not_served(request({"--rerank", "2"}));
}

TEST_F(LiteGenerate, InvalidRequestsAreTheFullProgramsToReport) {
  expect_not_served(request({"-n", "0"}));
  expect_not_served(request({"-n", "100001"}));
  expect_not_served(request({"--label", "z"}));
  expect_not_served(request({"--temperature", "101"}));
  expect_not_served(request({"--latent-temperature", "-2"}));
  expect_not_served(
      {"generate", "--model", dir_.file("none.cvae"), "--rerank", "1", "--out", out()});
}

TEST_F(LiteGenerate, ModelFilesItCannotSampleAreNotServed) {
  const auto with = [&](auto change) {
    core::Container c = model_container(image_model());
    change(c);
    core::write_container(model_, c);
    expect_not_served(request({"-n", "1"}));
  };
  with([](core::Container& c) { c.header["model"]["arch"] = "conv"; });
  with([](core::Container& c) { c.header["model"]["likelihood"] = "gaussian"; });
  with([](core::Container& c) { c.header["program"] = "other"; });
  with([](core::Container& c) { c.blobs.erase("inference/weights_f32"); });
  with([](core::Container& c) { c.blobs["inference/weights_f32"] = "CVAERAW1"; });  // truncated
  with([](core::Container& c) {
    c.blobs["inference/weights_f32"] = encode_raw_tensors(decoder_weights(image_model(), 5));
  });
  // Not a model file at all.
  core::write_file_atomic(model_, std::string("not a model"));
  expect_not_served(request({"-n", "1"}));
}

}  // namespace
}  // namespace cvae::lite
