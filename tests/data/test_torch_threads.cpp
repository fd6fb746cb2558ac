// data/torch_threads.cpp: the thread count reaches libtorch as well as the
// native settings, and counts outside 0..1024 are refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "cvae/errors.h"
#include "data/torch_threads.h"

namespace cvae {
namespace {

TEST(TorchThreads, CountReachesLibtorchAndIsValidated) {
  EXPECT_THROW(data::set_threads(-1), ConfigError);
  EXPECT_THROW(data::set_threads(100000), ConfigError);
  EXPECT_EQ(data::set_threads(1), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  const int all = core::available_cores();
  EXPECT_EQ(data::set_threads(0), all);  // 0 = every core this process may use
  EXPECT_EQ(torch::get_num_threads(), all);
}

}  // namespace
}  // namespace cvae
