// serve/api_serve.cpp: cvae::generate, transfer, interpolate and describe_model
// in-process on a toy image model with named labels: counts, label names, the
// files written (read back), the seed, and ConfigErrors for bad requests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "io/idx.h"
#include "io/png.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

const std::vector<std::string> kNames = {"zero", "one", "two"};

// Height or width of a grid of `tiles` tiles of `size` pixels with the 2-pixel padding.
int64_t grid_extent(int64_t tiles, int64_t size) { return tiles * size + (tiles + 1) * 2; }

class ServeToy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("cvae-api-serve");
    testing::write_toy_idx(dir_->file("toy"), 300, 30, 8, 3, 1);
    testing::write_bytes(dir_->file("toy/labels.txt"), "zero\none\ntwo\n");
    TrainRequest r = testing::toy_train_request(dir_->file("toy"), dir_->file("toy.cvae"), 2);
    train(r);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static GenerateRequest gen_request(const std::string& out) {
    GenerateRequest g;
    g.model = file("toy.cvae");
    g.out = out;
    g.threads = 1;
    return g;
  }
  static testing::TempDir* dir_;
};

testing::TempDir* ServeToy::dir_ = nullptr;

TEST_F(ServeToy, GenerateWritesOneGridRowPerLabel) {
  auto g = gen_request(file("all.png"));
  g.n = 4;
  GenerateResult res = generate(g);
  EXPECT_EQ(res.count, 12);
  EXPECT_EQ(res.labels, kNames);
  ASSERT_EQ(res.files, (std::vector<std::string>{file("all.png")}));
  io::Image img = io::read_png(file("all.png"));
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.height, grid_extent(3, 8));
  EXPECT_EQ(img.width, grid_extent(4, 8));
  EXPECT_TRUE(res.texts.empty());
}

TEST_F(ServeToy, GenerateIdxHoldsTheRequestedLabelsAndTheSeedRepeats) {
  auto g = gen_request(file("two"));
  g.labels = {"two", "zero"};
  g.n = 5;
  g.format = "idx";
  GenerateResult res = generate(g);
  EXPECT_EQ(res.count, 10);
  EXPECT_EQ(res.labels, (std::vector<std::string>{"two", "zero"}));
  ASSERT_EQ(res.files.size(), 2u);
  io::IdxArray images = io::read_idx(res.files[0]);
  io::IdxArray labels = io::read_idx(res.files[1]);
  EXPECT_EQ(images.dims, (std::vector<int64_t>{10, 8, 8}));
  EXPECT_EQ(labels.data, (std::vector<uint8_t>{2, 2, 2, 2, 2, 0, 0, 0, 0, 0}));  // label-major

  auto again = gen_request(file("again"));
  again.labels = g.labels;
  again.n = 5;
  again.format = "idx";
  generate(again);
  EXPECT_EQ(io::read_idx(file("again-images-idx3-ubyte")).data, images.data);
  again.seed = 2;
  generate(again);
  EXPECT_NE(io::read_idx(file("again-images-idx3-ubyte")).data, images.data);
}

TEST_F(ServeToy, GenerateRefusesUnknownLabelsFormatsAndSamplers) {
  auto g = gen_request(file("bad.png"));
  g.labels = {"seven"};
  const std::string msg = error_of<ConfigError>([&] { generate(g); });
  EXPECT_CONTAINS(msg, "'seven'");
  EXPECT_CONTAINS(msg, "zero, one, two");
  g = gen_request(file("bad.tsv"));
  g.format = "tsv";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { generate(g); }), "does not fit this image model");
  g = gen_request(file("bad.png"));
  g.sampler = "uniform";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { generate(g); }), "--sampler");
  g = gen_request(file("bad.png"));
  g.n = 0;
  EXPECT_THROW(generate(g), ConfigError);
  EXPECT_FALSE(testing::file_exists(file("bad.png")));
  g = gen_request(file("bad.png"));
  g.model = file("missing.cvae");
  EXPECT_THROW(generate(g), CheckpointError);
}

TEST_F(ServeToy, TransferNamesSourcesAndTargetsAndWritesTheirImages) {
  TransferRequest t;
  t.model = file("toy.cvae");
  t.data.path = file("toy");
  t.indices = {0, 1};  // test examples 0 and 1: labels zero and one
  t.out = file("transfer.png");
  t.threads = 1;
  TransferResult res = transfer(t);
  EXPECT_EQ(res.source_labels, (std::vector<std::string>{"zero", "one"}));
  EXPECT_EQ(res.target_labels, kNames);
  ASSERT_EQ(res.files, (std::vector<std::string>{file("transfer.png")}));
  io::Image img = io::read_png(file("transfer.png"));
  EXPECT_EQ(img.height, grid_extent(2, 8));
  EXPECT_EQ(img.width, grid_extent(4, 8));  // the original, then one per target

  t.format = "idx";
  t.to_labels = {"two"};
  t.out = file("moved");
  res = transfer(t);
  ASSERT_EQ(res.files.size(), 2u);
  EXPECT_EQ(io::read_idx(res.files[0]).dims, (std::vector<int64_t>{2, 8, 8}));
  EXPECT_EQ(io::read_idx(res.files[1]).data, (std::vector<uint8_t>{2, 2}));

  t.to_labels = {"nine"};
  EXPECT_THROW(transfer(t), ConfigError);
  t.to_labels = {"all"};
  t.format = "gif";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { transfer(t); }), "--format");
  t.format = "png";
  t.texts = {"a text"};
  EXPECT_CONTAINS(error_of<ConfigError>([&] { transfer(t); }), "--text needs a text model");
}

TEST_F(ServeToy, InterpolateWritesRowsOfStepsAndChecksItsOptions) {
  InterpolateRequest q;
  q.model = file("toy.cvae");
  q.label = "one";
  q.to_label = "two";
  q.steps = 5;
  q.rows = 2;
  q.out = file("interp.png");
  q.threads = 1;
  InterpolateResult res = interpolate(q);
  ASSERT_EQ(res.files, (std::vector<std::string>{file("interp.png")}));
  io::Image img = io::read_png(file("interp.png"));
  EXPECT_EQ(img.height, grid_extent(4, 8));  // 2 latent walks + 2 label walks
  EXPECT_EQ(img.width, grid_extent(5, 8));

  auto bad = q;
  bad.steps = 1;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "--steps");
  bad = q;
  bad.rows = 0;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "--rows");
  bad = q;
  bad.temperature = -1;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "--temperature");
  bad = q;
  bad.label = "";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "--label");
  bad = q;
  bad.label = "eight";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "'eight'");
  bad = q;
  bad.from_text = "hello";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { interpolate(bad); }), "need a text model");
}

TEST_F(ServeToy, DescribeModelNamesTheModalityLabelsAndSize) {
  const std::string path = file("toy.cvae");
  auto j = nlohmann::json::parse(describe_model(path, true));
  EXPECT_EQ(j["file"], path);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), std::filesystem::file_size(path));
  EXPECT_EQ(j["model"]["modality"], "image");
  EXPECT_FALSE(j["modality_inferred"].get<bool>());
  EXPECT_TRUE(j["latent_mixture"].get<bool>());
  EXPECT_TRUE(j["resumable"].get<bool>());
  EXPECT_EQ(j["model"]["conditions"][0]["labels"].get<std::vector<std::string>>(), kNames);
  EXPECT_EQ(j["model"]["latent"].get<int64_t>(), 2);
  auto model = models::load_model(path);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  EXPECT_EQ(j["parameters"].get<int64_t>(), params);
  EXPECT_EQ(j["state"]["epochs_done"].get<int64_t>(), 2);

  const std::string text = describe_model(path, false);
  EXPECT_CONTAINS(text, "modality        image\n");
  EXPECT_CONTAINS(text, "zero one two");
  EXPECT_CONTAINS(text, "input shape     1x8x8");
  EXPECT_CONTAINS(text, "latent mixture");
  EXPECT_THROW(describe_model(file("missing.cvae"), true), CheckpointError);
}

}  // namespace
}  // namespace cvae
