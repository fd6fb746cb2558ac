// Every test binary registers the built-in modalities before its first test, as
// the public API functions do on their first call: the unit tests also reach the
// model layer's registries directly (a conv or GRU model built by hand).
#include <gtest/gtest.h>

#include "modalities/modality.h"

namespace {

class BuiltinModalities : public ::testing::Environment {
 public:
  void SetUp() override { cvae::modalities::register_builtins(); }
};

[[maybe_unused]] ::testing::Environment* const g_builtins =
    ::testing::AddGlobalTestEnvironment(new BuiltinModalities);

}  // namespace
