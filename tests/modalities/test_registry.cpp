// modalities/registry.cpp and modality.cpp's registry: the built-in modalities
// are registered once, image first (the reader of data nobody else claims), and
// a lookup by an unknown name lists the known ones.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "modalities/modality.h"
#include "models/backbone.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

TEST(ModalityRegistry, BuiltInsComeFirstInOrderAndRegisterOnce) {
  modalities::register_builtins();
  const std::vector<std::string> names = modalities::modality_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "image");
  EXPECT_EQ(names[1], "text");
  modalities::register_builtins();  // a second call adds nothing and throws nothing
  EXPECT_EQ(modalities::modality_names(), names);
  EXPECT_EQ(cvae::modality_names(), names);  // the public API's list is the registry's
  // Both registries hold each modality: the command layer's and the model layer's.
  for (const auto& n : names) EXPECT_EQ(models::model_kind(n).modality(), n);
}

TEST(ModalityRegistry, UnknownNameListsTheKnownOnes) {
  const std::string msg = error_of<ConfigError>([] { modalities::modality("speech"); });
  EXPECT_NE(msg.find("got 'speech'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("auto, image, text"), std::string::npos) << msg;
}

TEST(ModalityRegistry, AutoPicksTheModalityThatClaimsTheData) {
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

TEST(ModalityRegistry, ARegisteredNameCannotBeRegisteredAgain) {
  const auto before = modalities::modality_names();
  const std::string msg = error_of<ConfigError>([] {
    modalities::register_modality(std::shared_ptr<const modalities::Modality>(
        &modalities::modality("image"), [](const modalities::Modality*) {}));
  });
  EXPECT_NE(msg.find("'image' is registered twice"), std::string::npos) << msg;
  EXPECT_EQ(modalities::modality_names(), before);
}

}  // namespace
}  // namespace cvae
