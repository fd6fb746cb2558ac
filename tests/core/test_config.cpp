// The config structs' validate() and condition_width (src/core/config.cpp): the
// defaults are valid, each bound is inclusive where documented, and every
// rejection is a ConfigError naming the field, the value and what was expected.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cvae/config.h"
#include "cvae/errors.h"
#include "support/expect_error.h"

namespace cvae {
namespace {

using testing::error_of;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ModelConfig valid_model() {
  ModelConfig m;
  m.input_shape = {1, 28, 28};
  m.conditions = {{"label", "categorical", {"0", "1", "2"}}};
  return m;
}

DataConfig valid_data() {
  DataConfig d;
  d.path = "data/";
  return d;
}

template <class Config>
std::string rejection(const Config& c) {
  return error_of<ConfigError>([&] { c.validate(); });
}

TEST(ConditionWidth, IsTheTotalNumberOfLabels) {
  EXPECT_EQ(condition_width({}), 0);
  EXPECT_EQ(condition_width({{"label", "categorical", {"a", "b", "c"}}}), 3);
  EXPECT_EQ(condition_width({{"accent", "categorical", {"x", "y"}},
                             {"word", "categorical", {"1", "2", "3", "4", "5"}}}),
            7);
}

TEST(ModelConfigValidate, DefaultsWithDataAreValid) {
  EXPECT_NO_THROW(valid_model().validate());
  ModelConfig m = valid_model();
  m.prior = "standard";
  m.hidden = std::vector<int64_t>(16, 65536);  // the most layers, each the widest
  m.latent = 4096;
  m.input_shape = {1 << 20};
  EXPECT_NO_THROW(m.validate());
  m.latent = 1;
  m.hidden = {1};
  m.input_shape = {1};
  EXPECT_NO_THROW(m.validate());
}

TEST(ModelConfigValidate, PriorAndShape) {
  ModelConfig m = valid_model();
  m.prior = "gmm";
  EXPECT_CONTAINS(rejection(m), "unknown prior (got 'gmm' vs expected one of: standard, learned)");
  m = valid_model();
  m.input_shape = {};
  EXPECT_CONTAINS(rejection(m), "input shape is empty");
  m.input_shape = {1, 0, 28};
  EXPECT_CONTAINS(rejection(m),
                  "input shape dimension out of range (got 0 vs expected 1..1048576)");
  m.input_shape = {(1 << 20) + 1};
  EXPECT_CONTAINS(rejection(m), "got 1048577");
}

TEST(ModelConfigValidate, HiddenLatentAndClamp) {
  ModelConfig m = valid_model();
  m.hidden = {};
  EXPECT_CONTAINS(rejection(m), "hidden widths are empty");
  m.hidden = std::vector<int64_t>(17, 8);
  EXPECT_CONTAINS(rejection(m), "too many hidden layers (got 17 vs expected at most 16)");
  m.hidden = {256, 0};
  EXPECT_CONTAINS(rejection(m), "hidden width out of range (got 0 vs expected 1..65536)");
  m.hidden = {65537};
  EXPECT_CONTAINS(rejection(m), "got 65537");
  m = valid_model();
  m.latent = 0;
  EXPECT_CONTAINS(rejection(m), "latent size out of range (got 0 vs expected 1..4096)");
  m.latent = 4097;
  EXPECT_CONTAINS(rejection(m), "got 4097");
  m = valid_model();
  m.logvar_min = kNaN;
  EXPECT_CONTAINS(rejection(m), "logvar_min must be a finite number (got nan)");
  m = valid_model();
  m.logvar_max = std::numeric_limits<double>::infinity();
  EXPECT_CONTAINS(rejection(m), "logvar_max must be a finite number (got inf)");
  m = valid_model();
  m.logvar_min = 2;
  m.logvar_max = 2;
  EXPECT_CONTAINS(rejection(m), "logvar clamp range is empty (got [2, 2])");
}

TEST(ModelConfigValidate, Conditions) {
  ModelConfig m = valid_model();
  m.conditions = {};
  EXPECT_CONTAINS(rejection(m), "the model has no condition");
  m = valid_model();
  m.conditions.push_back({"size", "categorical", {"s", "l"}});
  EXPECT_NO_THROW(m.validate());
  m.classifier = true;
  EXPECT_CONTAINS(rejection(m), "semi-supervised training needs one condition (got 2)");
  m = valid_model();
  m.conditions[0].kind = "continuous";
  EXPECT_CONTAINS(
      rejection(m),
      "unsupported condition kind for 'label' (got 'continuous' vs expected categorical)");
  m = valid_model();
  m.conditions[0].labels = {};
  EXPECT_CONTAINS(rejection(m), "condition 'label' has no labels");
  m = valid_model();
  m.conditions.push_back({"label", "categorical", {"x"}});
  EXPECT_CONTAINS(rejection(m), "condition name 'label' appears twice");
  m = valid_model();
  m.conditions[0].labels = {"cat", "dog", "cat"};
  EXPECT_CONTAINS(rejection(m), "condition 'label' has duplicate label names");
}

TEST(TrainConfigValidate, DefaultsAndInclusiveBoundsAreValid) {
  EXPECT_NO_THROW(TrainConfig{}.validate());
  TrainConfig t;
  t.kl_warmup = 0;  // a cyclical schedule needs the warm-up off
  t.kl_cycles = 100000;
  t.kl_cycle_ratio = 1;
  t.epochs = 1000000;
  t.batch_size = 1 << 20;
  t.lr = 10;
  t.beta = 0;
  t.free_bits = 100;
  t.gmm_components = 0;
  t.val_fraction = 0.9;
  t.threads = 1024;
  EXPECT_NO_THROW(t.validate());
  t = {};
  t.free_bits = 0;
  t.val_fraction = 0;
  t.threads = 0;
  t.epochs = 1;
  EXPECT_NO_THROW(t.validate());
}

TEST(TrainConfigValidate, EachOptionOutOfRangeIsNamed) {
  const auto with = [](auto set) {
    TrainConfig t;
    set(t);
    return rejection(t);
  };
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.epochs = 0; }),
                  "--epochs out of range (got 0 vs expected 1..1000000)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.epochs = 1000001; }), "--epochs");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.batch_size = 0; }), "--batch-size out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.lr = 0; }),
                  "--lr out of range (got 0 vs expected > 0 and <= 10)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.lr = 10.5; }), "--lr out of range (got 10.5");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.lr = kNaN; }), "--lr must be a finite number");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.beta = -0.5; }),
                  "--beta out of range (got -0.5 vs expected 0..1000)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.kl_warmup = -1; }), "--kl-warmup out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.kl_cycles = -1; }), "--kl-cycles out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.kl_cycle_ratio = 0; }),
                  "--kl-cycle-ratio out of range (got 0 vs expected > 0 and <= 1)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.kl_cycles = 2; }),  // the warm-up is on by default
                  "--kl-cycles and --kl-warmup both set (expected one KL schedule)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.free_bits = -0.5; }),
                  "--free-bits out of range (got -0.5 vs expected 0..100)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.gmm_components = 1001; }),
                  "--gmm-components out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.labelled = -1; }), "--labelled out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.ssl_alpha = -1; }), "--ssl-alpha out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.grad_clip = kNaN; }),
                  "--grad-clip must be a finite number");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.val_fraction = 0.95; }),
                  "--val-fraction out of range (got 0.95 vs expected 0..0.9)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.val_fraction = kNaN; }),
                  "--val-fraction out of range (got nan");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.save_every = -1; }), "--save-every out of range");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.threads = -1; }),
                  "--threads out of range (got -1 vs expected 0..1024)");
  EXPECT_CONTAINS(with([](TrainConfig& t) { t.threads = 1025; }), "--threads");
}

TEST(DataConfigValidate, DefaultsWithAPathAreValid) {
  EXPECT_NO_THROW(valid_data().validate());
  DataConfig d = valid_data();
  d.image_height = 16384;
  d.image_width = 1;
  d.channels = 3;
  d.max_tokens = 2;
  d.min_count = 1;
  EXPECT_NO_THROW(d.validate());
}

TEST(DataConfigValidate, EachOptionOutOfRangeIsNamed) {
  EXPECT_CONTAINS(rejection(DataConfig{}), "no data path given (expected --data DIR)");
  const auto with = [](auto set) {
    DataConfig d = valid_data();
    set(d);
    return rejection(d);
  };
  EXPECT_CONTAINS(with([](DataConfig& d) { d.image_height = -1; }),
                  "--image-height out of range (got -1 vs expected 0..16384)");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.image_width = 16385; }), "--image-width");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.image_height = 28; }),
                  "image size needs both height and width (got 28x0)");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.channels = 2; }),
                  "--channels out of range (got 2 vs expected 0, 1 or 3)");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.modality = ""; }), "no modality given");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.max_tokens = 1; }),
                  "--max-tokens out of range (got 1 vs expected 2..4096)");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.min_count = 0; }), "--min-count out of range");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.text_column = "label"; }),
                  "CSV columns must be two different non-empty names (got label 'label', text "
                  "'label')");
  EXPECT_CONTAINS(with([](DataConfig& d) { d.label_column = ""; }), "CSV columns");
}

}  // namespace
}  // namespace cvae
