// modalities/registry.cpp: the built-in modalities are registered once, image
// first (the reader of data nobody else claims), in both registries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cvae/api.h"
#include "modalities/modality.h"
#include "models/backbone.h"

namespace cvae {
namespace {

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

}  // namespace
}  // namespace cvae
