// core/once.h: call_once_reentrant runs its function once, a call from inside
// it returns instead of deadlocking, and a function that threw runs again.
#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>

#include "core/once.h"

namespace cvae {
namespace {

TEST(CallOnceReentrant, RunsOnceAndANestedCallReturns) {
  static std::once_flag once;
  static thread_local bool running = false;
  int runs = 0, nested = 0;
  auto f = [&] {
    ++runs;
    core::call_once_reentrant(once, running, [&] { ++nested; });  // would wait on itself
  };
  core::call_once_reentrant(once, running, f);
  core::call_once_reentrant(once, running, f);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(nested, 0);
  EXPECT_FALSE(running);
}

TEST(CallOnceReentrant, AFunctionThatThrewRunsAgain) {
  static std::once_flag once;
  static thread_local bool running = false;
  int runs = 0;
  EXPECT_THROW(core::call_once_reentrant(once, running,
                                         [&] {
                                           ++runs;
                                           throw std::runtime_error("first try fails");
                                         }),
               std::runtime_error);
  EXPECT_FALSE(running);
  core::call_once_reentrant(once, running, [&] { ++runs; });
  core::call_once_reentrant(once, running, [&] { ++runs; });
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace cvae
