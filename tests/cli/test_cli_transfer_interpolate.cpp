// The transfer and interpolate sub-commands: the grids and IDX files they write and the labels
// their images show.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "io/idx.h"
#include "io/png.h"

#include "cli_fixtures.h"

namespace cli_test {
namespace {

TEST_F(CliUserPath, TransferAllLabelsIsOneRow) {
  RunResult r =
      cvae::testing::run_cli({"transfer", "--model", model(), "--data", data(), "--index", "3",
                              "--to-label", "all", "--out", out("t.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "source label(s) 0")) << r.out;  // test example 3 has label 0
  auto img = cvae::io::read_png(out("t.png"));
  EXPECT_EQ(img.height, grid_extent(1));
  EXPECT_EQ(img.width, grid_extent(n_labels() + 1));
  // The first tile is the original test example 3, exactly.
  auto test_images = cvae::io::read_idx(fs::path(data()) / "t10k-images-idx3-ubyte");
  std::vector<int> original(test_images.data.begin() + 3 * kSize * kSize,
                            test_images.data.begin() + 4 * kSize * kSize);
  EXPECT_EQ(tile(img, 0, 0), original);
  // The decodings take the target label's band.
  for (int k = 0; k < kClasses; ++k) EXPECT_EQ(brightest_band(tile(img, 0, 1 + k)), k) << k;
}

TEST_F(CliUserPath, TransferIdxHoldsImagesAndTargetLabels) {
  const std::string prefix = out("tr");
  RunResult r = cvae::testing::run_cli({"transfer", "--model", model(), "--data", data(), "--index",
                                        "0", "--index", "1", "--to-label", "all", "--format", "idx",
                                        "--out", prefix, "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  auto images = cvae::io::read_idx(prefix + "-images-idx3-ubyte");
  auto labels = cvae::io::read_idx(prefix + "-labels-idx1-ubyte");
  EXPECT_EQ(images.dims, (std::vector<int64_t>{2 * n_labels(), kSize, kSize}));
  ASSERT_EQ(labels.dims, (std::vector<int64_t>{2 * n_labels()}));
  for (int64_t i = 0; i < 2 * n_labels(); ++i)
    EXPECT_EQ(labels.data[static_cast<size_t>(i)], i % n_labels()) << "image " << i;
}

TEST_F(CliUserPath, InterpolateToLabelIsTwoRows) {
  RunResult r =
      cvae::testing::run_cli({"interpolate", "--model", model(), "--label", "0", "--to-label", "2",
                              "--steps", "5", "--out", out("i.png"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "wrote " + out("i.png"))) << r.out;
  auto img = cvae::io::read_png(out("i.png"));
  EXPECT_EQ(img.width, grid_extent(5));
  EXPECT_EQ(img.height, grid_extent(2));
  // Row 2 walks from label 0 to label 2 at one z: its ends show those labels.
  EXPECT_EQ(brightest_band(tile(img, 1, 0)), 0);
  EXPECT_EQ(brightest_band(tile(img, 1, 4)), 2);
}

}  // namespace
}  // namespace cli_test
