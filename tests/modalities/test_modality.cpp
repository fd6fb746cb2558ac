// modalities/modality.cpp: lookups by name (an unknown one lists the known
// ones), the modality that claims a --data path, a second registration of a
// name refused, one_label and the per-label fidelity table.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "modalities/modality.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

TEST(ModalityLookup, UnknownNameListsTheKnownOnes) {
  const std::string msg = error_of<ConfigError>([] { modalities::modality("speech"); });
  EXPECT_NE(msg.find("got 'speech'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("auto, image, text"), std::string::npos) << msg;
}

TEST(ModalityLookup, AutoPicksTheModalityThatClaimsTheData) {
  testing::TempDir dir("cvae-registry");
  testing::write_toy_idx(dir.path(), 20, 10);
  testing::write_toy_text(dir.file("train.tsv"), 30);
  DataConfig images;
  images.path = dir.path();
  EXPECT_EQ(modalities::modality_for_data(images).modality(), "image");
  DataConfig text;
  text.path = dir.file("train.tsv");
  EXPECT_EQ(modalities::modality_for_data(text).modality(), "text");
  // A named modality is taken as named.
  text.modality = "image";
  EXPECT_EQ(modalities::modality_for_data(text).modality(), "image");
}

TEST(ModalityLookup, ARegisteredNameCannotBeRegisteredAgain) {
  const auto before = modalities::modality_names();
  const std::string msg = error_of<ConfigError>([] {
    modalities::register_modality(std::shared_ptr<const modalities::Modality>(
        &modalities::modality("image"), [](const modalities::Modality*) {}));
  });
  EXPECT_NE(msg.find("'image' is registered twice"), std::string::npos) << msg;
  EXPECT_EQ(modalities::modality_names(), before);
}

TEST(OneLabel, NamesExactlyOneRow) {
  const std::vector<ConditionSpec> conds = {{"label", "categorical", {"0", "1", "2"}}};
  auto row = modalities::one_label(conds, "2", "--to");
  EXPECT_TRUE(torch::equal(row, torch::tensor({{2}}, torch::kInt64)));
  const std::string msg =
      error_of<ConfigError>([&] { modalities::one_label(conds, "all", "--to"); });
  EXPECT_NE(msg.find("--to must name one label (got 'all')"), std::string::npos) << msg;
  EXPECT_THROW(modalities::one_label(conds, "7", "--to"), ConfigError);
}

TEST(FidelityTable, OneLinePerLabelThenAllAndNanForAFigureLeftOut) {
  FidelityResult f;
  f.labels = {"a", "b"};
  f.cond_accuracy_per_label = {0.5, 1.0};
  f.judge_real_accuracy_per_label = {0.25, 0.75};
  f.diversity_ratio_per_label = {0.9};  // the measure left label b's out
  f.cond_accuracy = 0.75;
  f.judge_real_accuracy = 0.5;
  f.diversity_ratio = 0.9;
  const std::string t = modalities::fidelity_table(f, "spread");
  EXPECT_NE(t.find("label"), std::string::npos) << t;
  EXPECT_NE(t.find("spread"), std::string::npos) << t;
  EXPECT_NE(t.find("a                0.5000     0.2500      0.900"), std::string::npos) << t;
  EXPECT_NE(t.find("b                1.0000     0.7500        nan"), std::string::npos) << t;
  EXPECT_NE(t.find("all              0.7500     0.5000      0.900"), std::string::npos) << t;
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 4);  // header, two labels, all
}

}  // namespace
}  // namespace cvae
