// data/dataset.cpp: label names from the data or labels.txt, UTF-8 folder names,
// label mapping between splits, the seeded validation split, condition
// encoding and label parsing, and the stratified labelled subset.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "io/png.h"
#include "modalities/modality.h"
#include "support/tiny_data.h"

namespace fs = std::filesystem;

namespace cvae {
namespace {

std::string data_error(const DataConfig& cfg, const std::string& split) {
  try {
    modalities::load_dataset(cfg, split);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(DatasetTest, LabelNamesAreTheValuesInTheDataOrLabelsTxt) {
  testing::TempDir dir("dataset");
  testing::write_toy_idx(dir.path(), 30, 9, 8, 3, 1);
  DataConfig cfg;
  cfg.path = dir.path();
  auto d = modalities::load_dataset(cfg, "train");
  EXPECT_EQ(d.conditions.at(0).labels, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(d.example_shape(), (std::vector<int64_t>{1, 8, 8}));
  EXPECT_LE(d.x.max().item<float>(), 1.0f);

  std::ofstream(dir.file("labels.txt")) << "\xEF\xBB\xBFzero\none\r\ntwo\n\n";
  EXPECT_EQ(modalities::load_dataset(cfg, "test").conditions.at(0).labels,
            (std::vector<std::string>{"zero", "one", "two"}));
  std::ofstream(dir.file("labels.txt")) << "zero\n\none\ntwo\n";
  EXPECT_NE(data_error(cfg, "train").find("line 2 is blank"), std::string::npos)
      << data_error(cfg, "train");
  std::ofstream(dir.file("labels.txt")) << "zero\none\n";
  EXPECT_NE(data_error(cfg, "train").find("too few labels"), std::string::npos);
  std::ofstream(dir.file("labels.txt")) << "zero\non\xE9\ntwo\n";
  EXPECT_NE(data_error(cfg, "train").find("invalid UTF-8"), std::string::npos)
      << data_error(cfg, "train");
}

TEST(DatasetTest, ImageFolderNamesMustBeUtf8) {
  testing::TempDir dir("dataset-utf8");
  io::Image img;
  img.height = img.width = 4;
  img.channels = 1;
  img.pixels.assign(16, 100);
  for (const std::string& label : std::vector<std::string>{"ok", "caf\xE9"}) {
    fs::create_directories(dir.file(label));
    io::write_png(dir.file(label) + "/a.png", img);
  }
  DataConfig cfg;
  cfg.path = dir.path();
  EXPECT_NE(data_error(cfg, "train").find("invalid UTF-8"), std::string::npos)
      << data_error(cfg, "train");
  EXPECT_NE(data_error(cfg, "test").find("no 'test' split"), std::string::npos)
      << data_error(cfg, "test");
}

TEST(DatasetTest, SplitLabelsAreMappedOntoTheModelsByName) {
  data::Dataset d;
  d.x = torch::zeros({3, 1, 2, 2});
  d.y = torch::tensor({0, 1, 1}, torch::kInt64).view({3, 1});
  d.conditions = {{"label", "categorical", {"cat", "dog"}}};
  d.source = "test";
  std::vector<ConditionSpec> model = {{"label", "categorical", {"ant", "cat", "dog"}}};
  data::check_compatible(d, {1, 2, 2}, model);
  EXPECT_TRUE(torch::equal(d.y.view({-1}), torch::tensor({1, 2, 2}, torch::kInt64)));
  EXPECT_EQ(d.conditions[0].labels, model[0].labels);

  data::Dataset e = d;
  e.y = d.y.clone();
  e.conditions = {{"label", "categorical", {"cat", "emu"}}};
  EXPECT_THROW(data::check_compatible(e, {1, 2, 2}, model), DataError);
  EXPECT_THROW(data::check_compatible(d, {1, 4, 1}, model), DataError);
}

TEST(DatasetTest, ValidationSplitIsSeededAndDisjoint) {
  data::Dataset d;
  d.x = torch::arange(100, torch::kFloat32).view({100, 1});
  d.y = torch::zeros({100, 1}, torch::kInt64);
  d.conditions = {{"label", "categorical", {"a"}}};
  auto [train, val] = data::split_validation(d, 0.1, 3);
  EXPECT_EQ(val.size(), 10);
  EXPECT_EQ(train.size(), 90);
  auto all = torch::cat({train.x, val.x}).view({-1});
  EXPECT_TRUE(torch::equal(std::get<0>(all.sort()), torch::arange(100, torch::kFloat32)));
  auto [train2, val2] = data::split_validation(d, 0.1, 3);
  EXPECT_TRUE(torch::equal(val.x, val2.x));
  auto [train3, val3] = data::split_validation(d, 0.1, 4);
  EXPECT_FALSE(torch::equal(val.x, val3.x));
  EXPECT_THROW(data::split_validation(d, 1.0, 3), ConfigError);
}

TEST(Conditions, OneHotAndLabelParsing) {
  std::vector<ConditionSpec> conds = {{"accent", "categorical", {"a", "b"}},
                                      {"word", "categorical", {"x", "y", "z"}}};
  auto y = torch::tensor({1, 2}, torch::kInt64).view({1, 2});
  auto c = data::encode_conditions(conds, y);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{1, 5}));
  EXPECT_TRUE(torch::equal(c, torch::tensor({{0.f, 1.f, 0.f, 0.f, 1.f}})));
  auto rows = data::parse_labels(conds, {"all"});
  EXPECT_EQ(rows.size(0), 6);
  auto one = data::parse_labels(conds, {"word=z+accent=b"});
  EXPECT_TRUE(torch::equal(one, torch::tensor({{1, 2}}, torch::kInt64)));
  EXPECT_EQ(data::label_name(conds, one[0]), "accent=b+word=z");
  try {
    data::parse_labels(conds, {"accent=q+word=x"});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("expected one of: a, b"), std::string::npos) << e.what();
  }
  EXPECT_THROW(data::parse_labels(conds, {"accent=a"}), ConfigError);  // word missing
  std::vector<ConditionSpec> digits = {{"label", "categorical", {"0", "1", "2"}}};
  EXPECT_TRUE(torch::equal(data::parse_labels(digits, {"2,0"}).view({-1}),
                           torch::tensor({2, 0}, torch::kInt64)));
  EXPECT_THROW(data::parse_labels(digits, {"3"}), ConfigError);
}

TEST(StratifiedSubset, EvenPerLabelSortedAndSeeded) {
  data::Dataset d;
  d.x = torch::zeros({30, 1});
  d.y = (torch::arange(30, torch::kInt64) % 3).view({-1, 1});
  d.conditions = {{"label", "categorical", {"a", "b", "c"}}};
  auto idx = data::stratified_subset(d, 7, 1);
  ASSERT_EQ(idx.size(0), 7);
  auto counts = torch::bincount(d.y.select(1, 0).index_select(0, idx));
  EXPECT_EQ(counts.max().item<int64_t>() - counts.min().item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(idx, std::get<0>(idx.sort())));
  EXPECT_TRUE(torch::equal(idx, data::stratified_subset(d, 7, 1)));
  EXPECT_FALSE(torch::equal(idx, data::stratified_subset(d, 7, 2)));
  EXPECT_THROW(data::stratified_subset(d, 0, 1), ConfigError);
  EXPECT_THROW(data::stratified_subset(d, 31, 1), ConfigError);
}

}  // namespace
}  // namespace cvae
