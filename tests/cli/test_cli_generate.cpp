// The generate sub-command: grids and IDX output per label, seeds, samples that look like their
// label, and the latent samplers (--sampler, fit-sampler).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "io/idx.h"
#include "io/png.h"

#include "cli_fixtures.h"

namespace cli_test {
namespace {

// The toy data holds the label values 0, 1 and 2 and no labels.txt: the model's labels
// should be those three, so that --label all means three rows and --label 7 is unknown.
TEST_F(CliUserPath, LabelsAreTheValuesInTheData) {
  EXPECT_EQ(shared().labels, (std::vector<std::string>{"0", "1", "2"}));
  RunResult r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "all", "-n", "4",
                                        "--out", out("all.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto img = cvae::io::read_png(out("all.png"));
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
  auto img = cvae::io::read_png(out("x.png"));
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
  auto img = cvae::io::read_png(out("all.png"));
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
  auto images = cvae::io::read_idx(prefix + "-images-idx3-ubyte");
  auto labels = cvae::io::read_idx(prefix + "-labels-idx1-ubyte");
  EXPECT_EQ(images.dims, (std::vector<int64_t>{4 * n_labels(), kSize, kSize}));
  ASSERT_EQ(labels.dims, (std::vector<int64_t>{4 * n_labels()}));
  for (int64_t i = 0; i < 4 * n_labels(); ++i) {
    EXPECT_EQ(labels.data[static_cast<size_t>(i)], i / 4) << "sample " << i;
  }
  // Requested labels in the order given.
  r = cvae::testing::run_cli({"generate", "--model", model(), "--label", "2,0", "-n", "3",
                              "--format", "idx", "--out", out("q"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  labels = cvae::io::read_idx(out("q") + "-labels-idx1-ubyte");
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

  auto train = cvae::io::read_idx_pair(fs::path(data) / "train-images-idx3-ubyte",
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
  auto samples = cvae::io::read_idx(dir.file("s-images-idx3-ubyte"));
  auto labels = cvae::io::read_idx(dir.file("s-labels-idx1-ubyte"));
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

}  // namespace
}  // namespace cli_test
