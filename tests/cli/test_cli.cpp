// The cvae CLI end to end: the binary is run as a child process on tiny, class-separable
// IDX data (tests/support/tiny_data.h), and its exit codes, messages and output files are
// checked. Training is deterministic with --threads 1, which the resume tests rely on.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/idx.h"
#include "data/png.h"
#include "support/tiny_data.h"

namespace {

namespace fs = std::filesystem;
using cvae::testing::contains;
using cvae::testing::describe;
using cvae::testing::file_exists;
using cvae::testing::read_bytes;
using cvae::testing::RunResult;
using cvae::testing::TempDir;
using cvae::testing::write_bytes;
using Args = std::vector<std::string>;

constexpr int64_t kSize = 8;  // toy images are kSize x kSize
constexpr int kClasses = 3;   // toy labels 0, 1, 2
constexpr int64_t kPad = 2;   // padding of the PNG grids
constexpr int64_t kNTest = 90;

int64_t grid_extent(int64_t tiles) { return tiles * kSize + (tiles + 1) * kPad; }

// The options every training run here shares: a small, quick, deterministic model.
Args train_args(const std::string& data, const std::string& out, int epochs) {
  return {"train", "--data", data, "--out", out, "--epochs", std::to_string(epochs), "--hidden",
          "32", "--latent", "2", "--threads", "1", "--progress", "none", "--batch-size", "16",
          "--lr", "0.01",
          // The small MLP model the tests were written for (the defaults are the conv
          // model of docs/models.md, which CliVariants and the slow test train).
          "--arch", "mlp", "--prior", "standard", "--kl-warmup", "0", "--gmm-components", "10"};
}

// base with each "--option value" pair of overrides replacing that option's value in base,
// or appended when base does not have it.
Args with(Args base, const Args& overrides) {
  for (size_t i = 0; i + 1 < overrides.size(); i += 2) {
    auto it = std::find(base.begin(), base.end(), overrides[i]);
    if (it != base.end() && it + 1 != base.end()) {
      *(it + 1) = overrides[i + 1];
    } else {
      base.push_back(overrides[i]);
      base.push_back(overrides[i + 1]);
    }
  }
  return base;
}

Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A failure of the CLI as the project's conventions want it: the expected exit code
// (never a crash), a message that starts with "error:" and names the problem.
::testing::AssertionResult CleanError(const RunResult& r, const std::vector<std::string>& needles,
                                      int expected_code = 1) {
  if (r.code == 0) return ::testing::AssertionFailure() << "expected a failure\n" << describe(r);
  if (r.code >= 128) return ::testing::AssertionFailure() << "crashed\n" << describe(r);
  if (expected_code >= 0 && r.code != expected_code) {
    return ::testing::AssertionFailure() << "expected exit code " << expected_code << "\n"
                                         << describe(r);
  }
  if (r.err.rfind("error:", 0) != 0) {
    return ::testing::AssertionFailure() << "stderr does not start with 'error:'\n" << describe(r);
  }
  for (const auto& n : needles) {
    if (!contains(r.err, n)) {
      return ::testing::AssertionFailure() << "stderr does not mention '" << n << "'\n"
                                           << describe(r);
    }
  }
  return ::testing::AssertionSuccess();
}

// A command-line usage error reported by CLI11: its own non-zero code (not a crash) and a
// message on stderr that names the option.
::testing::AssertionResult UsageError(const RunResult& r, const std::vector<std::string>& needles) {
  if (r.code == 0) return ::testing::AssertionFailure() << "expected a failure\n" << describe(r);
  if (r.code >= 128) return ::testing::AssertionFailure() << "crashed\n" << describe(r);
  for (const auto& n : needles) {
    if (!contains(r.err, n)) {
      return ::testing::AssertionFailure() << "stderr does not mention '" << n << "'\n"
                                           << describe(r);
    }
  }
  return ::testing::AssertionSuccess();
}

std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// The pixels of tile (row, col) of a grid PNG of kSize x kSize gray tiles.
std::vector<int> tile(const cvae::data::Image& img, int64_t row, int64_t col) {
  std::vector<int> px;
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      const int64_t yy = kPad + row * (kSize + kPad) + y, xx = kPad + col * (kSize + kPad) + x;
      px.push_back(img.pixels[static_cast<size_t>((yy * img.width + xx) * img.channels)]);
    }
  }
  return px;
}

// The toy class whose band of rows is the brightest in an image: the label the image shows.
int brightest_band(const std::vector<int>& px) {
  std::vector<double> sum(kClasses, 0.0);
  std::vector<int> n(kClasses, 0);
  for (int64_t r = 0; r < kSize; ++r) {
    for (int k = 0; k < kClasses; ++k) {
      if (!cvae::testing::toy_pixel_lit(r, kSize, kClasses, k)) continue;
      for (int64_t c = 0; c < kSize; ++c) sum[k] += px[static_cast<size_t>(r * kSize + c)];
      n[k] += static_cast<int>(kSize);
    }
  }
  int best = 0;
  for (int k = 1; k < kClasses; ++k) {
    if (sum[k] / n[k] > sum[best] / n[best]) best = k;
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// One small model trained once per test process and shared by the tests that need one.
struct SharedModel {
  std::unique_ptr<TempDir> dir;
  std::string data, model;
  RunResult train;
  nlohmann::json info;  // info --json of the model, when training worked
  std::vector<std::string> labels;
};

const SharedModel& shared() {
  static SharedModel s = [] {
    SharedModel m;
    m.dir = std::make_unique<TempDir>("cvae-cli");
    m.data = m.dir->file("toy");
    m.model = m.dir->file("models/toy.cvae");  // the parent is created by train
    cvae::testing::write_toy_idx(m.data, 300, kNTest, kSize, kClasses, 1);
    m.train = cvae::testing::run_cli(train_args(m.data, m.model, 4));
    if (m.train.code == 0) {
      RunResult i = cvae::testing::run_cli({"info", "--model", m.model, "--json"});
      if (i.code == 0) {
        m.info = nlohmann::json::parse(i.out, nullptr, false);
        if (!m.info.is_discarded()) {
          try {
            m.labels = m.info.at("model")
                           .at("conditions")
                           .at(0)
                           .at("labels")
                           .get<std::vector<std::string>>();
          } catch (const nlohmann::json::exception&) {
          }
        }
      }
    }
    return m;
  }();
  return s;
}

#define REQUIRE_SHARED_MODEL()                                                         \
  do {                                                                                 \
    ASSERT_EQ(shared().train.code, 0) << "training the shared model failed\n"          \
                                      << describe(shared().train);                     \
    ASSERT_FALSE(shared().labels.empty()) << "info --json of the shared model has no " \
                                             "labels";                                 \
  } while (0)

class CliUserPath : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared(); }
  void SetUp() override {
    REQUIRE_SHARED_MODEL();
    work_ = std::make_unique<TempDir>("cvae-cli-out");
  }
  const std::string& model() const { return shared().model; }
  const std::string& data() const { return shared().data; }
  int64_t n_labels() const { return static_cast<int64_t>(shared().labels.size()); }
  std::string out(const std::string& name) const { return work_->file(name); }

  std::unique_ptr<TempDir> work_;
};

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

TEST_F(CliUserPath, InfoShowsLabelsAndShape) {
  RunResult r = cvae::testing::run_cli({"info", "--model", model()});
  ASSERT_EQ(r.code, 0) << describe(r);
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

// The toy data holds the label values 0, 1 and 2 and no labels.txt: the model's labels
// should be those three, so that --label all means three rows and --label 7 is unknown.
TEST_F(CliUserPath, LabelsAreTheValuesInTheData) {
  EXPECT_EQ(shared().labels, (std::vector<std::string>{"0", "1", "2"}));
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "all", "-n", "4",
                                        "--out", out("all.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto img = cvae::data::read_png(out("all.png"));
  EXPECT_EQ(img.height, grid_extent(3)) << "--label all should give one row per label of the data";
  r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "7", "--out",
                              out("seven.png"), "--threads", "1"});
  EXPECT_TRUE(CleanError(r, {"unknown label '7'", "0, 1, 2"}));
  EXPECT_FALSE(file_exists(out("seven.png")));
}

TEST_F(CliUserPath, GenerateOneLabelIsASquareGrid) {
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "1", "-n", "9",
                                        "--out", out("x.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "wrote " + out("x.png"))) << r.out;
  auto img = cvae::data::read_png(out("x.png"));
  EXPECT_EQ(img.width, grid_extent(3));
  EXPECT_EQ(img.height, grid_extent(3));
  EXPECT_EQ(img.channels, 1);
  ASSERT_EQ(img.pixels.size(), static_cast<size_t>(img.width * img.height * img.channels));
  // The padding around the tiles is the mid-gray pad value.
  for (int64_t x = 0; x < img.width; ++x) EXPECT_EQ(img.pixels[static_cast<size_t>(x)], 128) << x;
  // Every tile shows label 1: its band is the brightest.
  for (int64_t t = 0; t < 9; ++t) {
    EXPECT_EQ(brightest_band(tile(img, t / 3, t % 3)), 1) << "tile " << t;
  }
}

TEST_F(CliUserPath, GenerateAllLabelsHasOneRowPerLabel) {
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "all", "-n", "4",
                                        "--out", out("all.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto img = cvae::data::read_png(out("all.png"));
  EXPECT_EQ(img.width, grid_extent(4));
  EXPECT_EQ(img.height, grid_extent(n_labels()));
  // Row k shows label k (for the labels that have training data).
  for (int k = 0; k < kClasses && k < img.height; ++k) {
    for (int64_t c = 0; c < 4; ++c) EXPECT_EQ(brightest_band(tile(img, k, c)), k) << k << "," << c;
  }
}

TEST_F(CliUserPath, GenerateIdxIsLabelMajor) {
  const std::string prefix = out("gen/p");  // the parent does not exist yet
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "all", "-n", "4",
                                        "--format", "idx", "--out", prefix, "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto images = cvae::data::read_idx(prefix + "-images-idx3-ubyte");
  auto labels = cvae::data::read_idx(prefix + "-labels-idx1-ubyte");
  EXPECT_EQ(images.dims, (std::vector<int64_t>{4 * n_labels(), kSize, kSize}));
  ASSERT_EQ(labels.dims, (std::vector<int64_t>{4 * n_labels()}));
  for (int64_t i = 0; i < 4 * n_labels(); ++i) {
    EXPECT_EQ(labels.data[static_cast<size_t>(i)], i / 4) << "sample " << i;
  }
  // Requested labels in the order given.
  r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "2,0", "-n", "3",
                              "--format", "idx", "--out", out("q"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  labels = cvae::data::read_idx(out("q") + "-labels-idx1-ubyte");
  EXPECT_EQ(labels.data, (std::vector<uint8_t>{2, 2, 2, 0, 0, 0}));
}

TEST_F(CliUserPath, GenerateIsReproducibleBySeed) {
  auto gen = [&](const std::string& prefix, const std::string& seed) {
    return cvae::testing::run_cli({"generate", "--model", model(), "--label", "all", "-n", "5",
                                   "--format", "idx", "--seed", seed, "--out", out(prefix),
                                   "--threads", "1"});
  };
  RunResult a = gen("a", "7"), b = gen("b", "7"), c = gen("c", "8");
  ASSERT_EQ(a.code, 0) << describe(a);
  ASSERT_EQ(b.code, 0) << describe(b);
  ASSERT_EQ(c.code, 0) << describe(c);
  const std::string ia = read_bytes(out("a-images-idx3-ubyte"));
  ASSERT_FALSE(ia.empty());
  EXPECT_EQ(ia, read_bytes(out("b-images-idx3-ubyte")));
  EXPECT_EQ(read_bytes(out("a-labels-idx1-ubyte")), read_bytes(out("b-labels-idx1-ubyte")));
  EXPECT_NE(ia, read_bytes(out("c-images-idx3-ubyte")));
  // The PNG path too.
  RunResult p1 = cvae::testing::run_cli(
      {"generate", "--model", model(), "--seed", "3", "--out", out("s1.png"), "--threads", "1"});
  RunResult p2 = cvae::testing::run_cli(
      {"generate", "--model", model(), "--seed", "3", "--out", out("s2.png"), "--threads", "1"});
  ASSERT_EQ(p1.code, 0) << describe(p1);
  ASSERT_EQ(p2.code, 0) << describe(p2);
  EXPECT_EQ(read_bytes(out("s1.png")), read_bytes(out("s2.png")));
}

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

TEST_F(CliUserPath, TransferAllLabelsIsOneRow) {
  RunResult r =
      cvae::testing::run_cli({"transfer", "--model", model(), "--data", data(), "--index", "3",
                              "--to-label", "all", "--out", out("t.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "source label(s) 0")) << r.out;  // test example 3 has label 0
  auto img = cvae::data::read_png(out("t.png"));
  EXPECT_EQ(img.height, grid_extent(1));
  EXPECT_EQ(img.width, grid_extent(n_labels() + 1));
  // The first tile is the original test example 3, exactly.
  auto test_images = cvae::data::read_idx(fs::path(data()) / "t10k-images-idx3-ubyte");
  std::vector<int> original(test_images.data.begin() + 3 * kSize * kSize,
                            test_images.data.begin() + 4 * kSize * kSize);
  EXPECT_EQ(tile(img, 0, 0), original);
  // The decodings take the target label's band.
  for (int k = 0; k < kClasses; ++k) EXPECT_EQ(brightest_band(tile(img, 0, 1 + k)), k) << k;
}

TEST_F(CliUserPath, InterpolateToLabelIsTwoRows) {
  RunResult r =
      cvae::testing::run_cli({"interpolate", "--model", model(), "--label", "0", "--to-label", "2",
                              "--steps", "5", "--out", out("i.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "wrote " + out("i.png"))) << r.out;
  auto img = cvae::data::read_png(out("i.png"));
  EXPECT_EQ(img.width, grid_extent(5));
  EXPECT_EQ(img.height, grid_extent(2));
  // Row 2 walks from label 0 to label 2 at one z: its ends show those labels.
  EXPECT_EQ(brightest_band(tile(img, 1, 0)), 0);
  EXPECT_EQ(brightest_band(tile(img, 1, 4)), 2);
}

// ---------------------------------------------------------------------------------------
// Targeted samples: what is generated for a label looks like that label's training data.
TEST(CliTargeted, SamplesAreNearestToTheirLabelsMean) {
  TempDir dir("cvae-cli-targeted");
  const std::string data = dir.file("toy"), model = dir.file("m.cvae");
  cvae::testing::write_toy_idx(data, 600, 30, kSize, kClasses, 11);
  RunResult r = cvae::testing::run_cli(train_args(data, model, 8));
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli({"generate", "--model", model, "--label", "0,1,2", "-n", "50",
                              "--format", "idx", "--out", dir.file("s"), "--seed", "3", "--threads",
                              "1"});
  ASSERT_EQ(r.code, 0) << describe(r);

  auto train = cvae::data::read_idx_pair(fs::path(data) / "train-images-idx3-ubyte",
                                         fs::path(data) / "train-labels-idx1-ubyte");
  const size_t px = static_cast<size_t>(kSize * kSize);
  std::vector<std::vector<double>> mean(kClasses, std::vector<double>(px, 0.0));
  std::vector<int> count(kClasses, 0);
  for (int64_t i = 0; i < train.n; ++i) {
    const int k = train.labels[static_cast<size_t>(i)];
    ++count[k];
    for (size_t p = 0; p < px; ++p) mean[k][p] += train.pixels[static_cast<size_t>(i) * px + p];
  }
  for (int k = 0; k < kClasses; ++k) {
    for (auto& v : mean[k]) v /= count[k];
  }
  auto samples = cvae::data::read_idx(dir.file("s-images-idx3-ubyte"));
  auto labels = cvae::data::read_idx(dir.file("s-labels-idx1-ubyte"));
  ASSERT_EQ(samples.dims, (std::vector<int64_t>{150, kSize, kSize}));
  ASSERT_EQ(labels.dims, (std::vector<int64_t>{150}));
  // dist[k][m]: mean squared distance of the samples for label k to the mean image of label m.
  std::vector<std::vector<double>> dist(kClasses, std::vector<double>(kClasses, 0.0));
  std::vector<int> nearest_own(kClasses, 0);
  for (int64_t i = 0; i < 150; ++i) {
    const int k = labels.data[static_cast<size_t>(i)];
    ASSERT_EQ(k, i / 50);
    std::vector<double> d(kClasses, 0.0);
    for (int m = 0; m < kClasses; ++m) {
      for (size_t p = 0; p < px; ++p) {
        const double diff = samples.data[static_cast<size_t>(i) * px + p] - mean[m][p];
        d[m] += diff * diff / static_cast<double>(px);
      }
      dist[k][m] += d[m] / 50.0;
    }
    if (std::min_element(d.begin(), d.end()) - d.begin() == k) ++nearest_own[k];
  }
  for (int k = 0; k < kClasses; ++k) {
    for (int m = 0; m < kClasses; ++m) {
      if (m != k) {
        EXPECT_LT(dist[k][k], dist[k][m])
            << "samples for label " << k << " are nearer to label " << m << "'s mean";
      }
    }
    EXPECT_GE(nearest_own[k], 45) << "of 50 samples for label " << k
                                  << ", too few are nearest to their own label's mean";
  }
}

// ---------------------------------------------------------------------------------------
// Resume: a run split in two (or killed and resumed) ends with the same model as one run.
class CliResume : public ::testing::Test {
 protected:
  // Generates with a fixed seed from model and returns the IDX images bytes.
  static std::string fingerprint(const TempDir& dir, const std::string& model,
                                 const std::string& tag) {
    RunResult r = cvae::testing::run_cli({"generate", "--model", model, "--label", "0,1,2", "-n",
                                          "20", "--format", "idx", "--seed", "5", "--out",
                                          dir.file(tag), "--threads", "1"});
    EXPECT_EQ(r.code, 0) << describe(r);
    return read_bytes(dir.file(tag + "-images-idx3-ubyte"));
  }
  static nlohmann::json info(const std::string& model) {
    RunResult r = cvae::testing::run_cli({"info", "--model", model, "--json"});
    EXPECT_EQ(r.code, 0) << describe(r);
    return nlohmann::json::parse(r.out, nullptr, false);
  }
};

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

// ---------------------------------------------------------------------------------------
// Bad input: a clean error, and nothing written or overwritten.
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override { work_ = std::make_unique<TempDir>("cvae-cli-bad"); }
  std::string out(const std::string& name) const { return work_->file(name); }

  // Runs train with extra options and --out pointing at a copy of the shared model in a
  // fresh directory, and checks a clean error that names `needles`, and that the
  // directory is unchanged: the previous model byte-identical and no new files.
  void expect_train_error(const Args& args, const std::vector<std::string>& needles,
                          bool usage_error = false) {
    ASSERT_EQ(shared().train.code, 0) << describe(shared().train);
    TempDir dir("cvae-cli-bad-train");
    const std::string prev = dir.file("prev.cvae");
    const std::string bytes = read_bytes(shared().model);
    write_bytes(prev, bytes);
    RunResult r = cvae::testing::run_cli(args + Args{"--out", prev});
    if (usage_error) {
      EXPECT_TRUE(UsageError(r, needles));
    } else {
      EXPECT_TRUE(CleanError(r, needles));
    }
    EXPECT_TRUE(read_bytes(prev) == bytes) << "the previous model file was changed";
    EXPECT_EQ(join(list_dir(dir.path())), "prev.cvae");
  }

  Args small_train(const std::string& data) const {
    return {"train", "--data",    data, "--hidden",   "32",  "--latent",
            "2",     "--threads", "1",  "--progress", "none"};
  }

  std::unique_ptr<TempDir> work_;
};

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
  EXPECT_TRUE(UsageError(gen({"--format", "jpeg"}), {"--format", "jpeg"}));
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

// ---------------------------------------------------------------------------------------
// The judge, the samplers and the model variants (docs/models.md).

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

TEST_F(CliUserPath, TransferIdxHoldsImagesAndTargetLabels) {
  const std::string prefix = out("tr");
  RunResult r = cvae::testing::run_cli({"transfer", "--model", model(), "--data", data(), "--index",
                                        "0", "--index", "1", "--to-label", "all", "--format", "idx",
                                        "--out", prefix, "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto images = cvae::data::read_idx(prefix + "-images-idx3-ubyte");
  auto labels = cvae::data::read_idx(prefix + "-labels-idx1-ubyte");
  EXPECT_EQ(images.dims, (std::vector<int64_t>{2 * n_labels(), kSize, kSize}));
  ASSERT_EQ(labels.dims, (std::vector<int64_t>{2 * n_labels()}));
  for (int64_t i = 0; i < 2 * n_labels(); ++i)
    EXPECT_EQ(labels.data[static_cast<size_t>(i)], i % n_labels()) << "image " << i;
}

TEST_F(CliUserPath, GmmSamplerIsTheDefaultAndDiffersFromThePrior) {
  auto gen = [&](const std::string& sampler, const std::string& name) {
    RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "-n", "6", "--format",
                                          "idx", "--seed", "3", "--sampler", sampler, "--out",
                                          out(name), "--threads", "1"});
    EXPECT_EQ(r.code, 0) << describe(r);
    return read_bytes(out(name) + "-images-idx3-ubyte");
  };
  const std::string automatic = gen("auto", "a"), gmm = gen("gmm", "g"), prior = gen("prior", "p");
  EXPECT_FALSE(gmm.empty());
  EXPECT_EQ(automatic, gmm);
  EXPECT_NE(gmm, prior);
  RunResult r = cvae::testing::run_cli({"info", "--model", model()});
  EXPECT_TRUE(contains(r.out, "latent mixture, 10 components for each of 3 label(s)")) << r.out;
}

TEST_F(CliUserPath, FitSamplerRewritesTheMixture) {
  const std::string copy = out("copy.cvae");
  write_bytes(copy, read_bytes(model()));
  RunResult r = cvae::testing::run_cli(
      {"fit-sampler", "--model", copy, "--data", data(), "--components", "2", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  r = cvae::testing::run_cli({"info", "--model", copy});
  EXPECT_TRUE(contains(r.out, "latent mixture, 2 components for each of 3 label(s)")) << r.out;
}

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
