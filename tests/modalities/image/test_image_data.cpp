// modalities/image/image_data.cpp: IDX directories read as tensors (shapes,
// pixel scale, labels, label names from labels.txt or both splits' largest label),
// DataErrors for bad directories and label files, and reading_for_images.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "io/idx.h"
#include "modalities/image/image_data.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

namespace image = modalities::image;
using testing::error_of;

DataConfig at(const std::string& path) {
  DataConfig cfg;
  cfg.path = path;
  return cfg;
}

TEST(ImageData, IdxDirectoriesGiveImagesInUnitRangeAndTheirLabels) {
  testing::TempDir dir("cvae-image-data");
  testing::write_toy_idx(dir.path(), 12, 6, 8, 3, 1);
  auto train = image::load_image_data(at(dir.path()), "train");
  ASSERT_EQ(train.x.sizes().vec(), (std::vector<int64_t>{12, 1, 8, 8}));
  EXPECT_EQ(train.x.scalar_type(), torch::kFloat32);
  ASSERT_EQ(train.y.sizes().vec(), (std::vector<int64_t>{12, 1}));
  EXPECT_EQ(train.y.scalar_type(), torch::kInt64);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(train.y[i][0].item<int64_t>(), i % 3);
  // The pixels are the file's bytes / 255.
  io::IdxArray raw = io::read_idx(dir.file("train-images-idx3-ubyte"));
  auto bytes = torch::from_blob(raw.data.data(), {12, 1, 8, 8}, torch::kUInt8).to(torch::kFloat32);
  EXPECT_LE((train.x * 255 - bytes).abs().max().item<double>(), 1e-3);
  EXPECT_EQ(train.source, dir.file("train-images-idx3-ubyte"));
  ASSERT_EQ(train.conditions.size(), 1u);
  EXPECT_EQ(train.conditions[0].name, "label");
  EXPECT_EQ(train.conditions[0].labels, (std::vector<std::string>{"0", "1", "2"}));

  auto test = image::load_image_data(at(dir.path()), "test");
  EXPECT_EQ(test.x.size(0), 6);
  EXPECT_EQ(test.source, dir.file("t10k-images-idx3-ubyte"));
}

TEST(ImageData, LabelNamesCoverBothSplits) {
  testing::TempDir dir("cvae-image-labels");
  testing::write_toy_idx(dir.path(), 6, 2, 8, 3, 1);
  // The test split holds labels 0 and 1 only; its names still run to the training's 2.
  auto test = image::load_image_data(at(dir.path()), "test");
  EXPECT_EQ(test.conditions[0].labels, (std::vector<std::string>{"0", "1", "2"}));
}

TEST(ImageData, LabelsTxtNamesTheLabelsInOrder) {
  testing::TempDir dir("cvae-image-labels-txt");
  testing::write_toy_idx(dir.path(), 6, 3, 8, 3, 1);
  testing::write_bytes(dir.file("labels.txt"),
                       "\xEF\xBB\xBF"
                       "circle\r\nsquare \n\xC3\xA9toile\n\n");
  auto d = image::load_image_data(at(dir.path()), "train");
  EXPECT_EQ(d.conditions[0].labels,
            (std::vector<std::string>{"circle", "square", "\xC3\xA9toile"}));

  testing::write_bytes(dir.file("labels.txt"), "circle\nsquare\n");
  EXPECT_CONTAINS(error_of<DataError>([&] { image::load_image_data(at(dir.path()), "train"); }),
                  "names too few labels");
  testing::write_bytes(dir.file("labels.txt"), "circle\n\nsquare\ntriangle\n");
  EXPECT_CONTAINS(error_of<DataError>([&] { image::load_image_data(at(dir.path()), "train"); }),
                  "line 2 is blank");
  testing::write_bytes(dir.file("labels.txt"), "circle\n\xFF\xFE\ntriangle\n");
  EXPECT_CONTAINS(error_of<DataError>([&] { image::load_image_data(at(dir.path()), "train"); }),
                  "invalid UTF-8");
}

TEST(ImageData, BadPathsAreDataErrors) {
  testing::TempDir dir("cvae-image-bad");
  EXPECT_FALSE(image::is_directory(dir.file("missing")));
  EXPECT_TRUE(image::is_directory(dir.path()));
  testing::write_bytes(dir.file("file.bin"), "x");
  EXPECT_FALSE(image::is_directory(dir.file("file.bin")));
  EXPECT_CONTAINS(
      error_of<DataError>([&] { image::load_image_data(at(dir.file("file.bin")), "train"); }),
      "is not a directory");
  // Images without their labels file.
  testing::write_toy_idx(dir.file("idx"), 6, 3, 8, 3, 1);
  std::filesystem::remove(dir.file("idx/t10k-labels-idx1-ubyte"));
  EXPECT_CONTAINS(error_of<DataError>([&] { image::load_image_data(at(dir.file("idx")), "test"); }),
                  "t10k-labels-idx1-ubyte");
}

TEST(ReadingForImages, FillsUnsetSizeAndChannelsFromTheModelShape) {
  DataConfig unset;
  auto r = image::reading_for_images(unset, {3, 16, 12});
  EXPECT_EQ(r.image_height, 16);
  EXPECT_EQ(r.image_width, 12);
  EXPECT_EQ(r.channels, 3);

  DataConfig set;
  set.image_height = 20;
  set.image_width = 0;
  set.channels = 1;
  auto kept = image::reading_for_images(set, {3, 16, 12});
  EXPECT_EQ(kept.image_height, 20);  // a size given is kept (and not half-filled)
  EXPECT_EQ(kept.image_width, 0);
  EXPECT_EQ(kept.channels, 1);

  auto flat = image::reading_for_images(unset, {64});  // not C x H x W: nothing to fill
  EXPECT_EQ(flat.image_height, 0);
  EXPECT_EQ(flat.channels, 0);
}

}  // namespace
}  // namespace cvae
