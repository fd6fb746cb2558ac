// modalities/text/text_data.cpp: the test split of a train file and the label
// checks.
#include <gtest/gtest.h>

#include "cvae/api.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "models/backbone.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using cvae::testing::TempDir;

TEST(TextData, TestSplitOfATrainFileAndLabelChecks) {
  TempDir dir;
  cvae::testing::write_bytes(dir.file("train.tsv"), "b\tw x.\na\tx y.\n");
  cvae::testing::write_bytes(dir.file("constraints.tsv"), "b\tw x.\n");
  cvae::DataConfig cfg;
  cfg.path = dir.file("train.tsv");
  cfg.min_count = 1;
  // No test.tsv beside train.tsv: a clear error.
  auto msg = cvae::testing::error_of([&] { cvae::modalities::load_dataset(cfg, "test"); });
  EXPECT_CONTAINS(msg, "test.tsv");
  // With it, the test split reads it, labels sorted by name and mapped to the model's.
  cvae::testing::write_bytes(dir.file("test.tsv"), "b\tx w.\n");
  auto train = cvae::modalities::load_dataset(cfg, "train");
  EXPECT_EQ(train.conditions[0].labels, (std::vector<std::string>{"a", "b"}));
  auto test = cvae::modalities::load_dataset_for(cfg, "test", train.modality, train.example_shape(),
                                                 train.vocabulary);
  EXPECT_EQ(test.source, dir.file("test.tsv"));
  cvae::data::check_compatible(test, train.example_shape(), train.conditions);
  EXPECT_EQ(test.y[0][0].item<int64_t>(), 1);  // "b" is the model's label 1
  EXPECT_EQ(test.x.size(1), train.x.size(1));
  // "train" inside another word is not the train split's name.
  cfg.path = dir.file("constraints.tsv");
  EXPECT_EQ(cvae::modalities::load_dataset(cfg, "test").source, dir.file("constraints.tsv"));
  // Labels with a comma cannot be named on the command line.
  cvae::testing::write_bytes(dir.file("comma.tsv"), "a,b\tw x.\n");
  cfg.path = dir.file("comma.tsv");
  msg = cvae::testing::error_of([&] { cvae::modalities::load_dataset(cfg, "train"); });
  EXPECT_CONTAINS(msg, "line 1");
}

}  // namespace
}  // namespace cvae
