// Threads, terminal detection and the progress line (src/core/runtime.cpp).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <omp.h>
#include <sched.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/runtime.h"
#include "cvae/errors.h"
#include "support/expect_error.h"

namespace cvae::core {
namespace {

// Points fd 2 at another descriptor for the lifetime of this object.
class StderrTo {
 public:
  explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    ::dup2(fd, STDERR_FILENO);
  }
  ~StderrTo() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  StderrTo(const StderrTo&) = delete;
  StderrTo& operator=(const StderrTo&) = delete;

 private:
  int saved_;
};

TEST(SetNativeThreads, OutOfRangeIsAConfigErrorNamingTheOption) {
  EXPECT_CONTAINS(testing::error_of<ConfigError>([] { set_native_threads(-1); }),
                  "--threads out of range (got -1 vs expected 0..1024; 0 = all cores)");
  EXPECT_CONTAINS(testing::error_of<ConfigError>([] { set_native_threads(1025); }), "got 1025");
}

TEST(SetNativeThreads, SetsOpenMPsThreadCount) {
  EXPECT_EQ(set_native_threads(1), 1);
  EXPECT_EQ(omp_get_max_threads(), 1);
  EXPECT_EQ(set_native_threads(3), 3);  // more than the cores is allowed
  EXPECT_EQ(omp_get_max_threads(), 3);
  EXPECT_EQ(set_native_threads(0), available_cores());
  EXPECT_EQ(omp_get_max_threads(), available_cores());
}

#if defined(__x86_64__) || defined(_M_X64)
TEST(SetNativeThreads, FlushesDenormalsToZero) {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved & ~0x8040u);
  volatile float tiny = 1e-30f;
  volatile float product = tiny * 1e-10f;  // 1e-40 is a denormal float
  EXPECT_GT(product, 0.0f);
  set_native_threads(1);
  EXPECT_EQ(_mm_getcsr() & 0x8040u, 0x8040u);  // FTZ | DAZ
  product = tiny * 1e-10f;
  EXPECT_EQ(product, 0.0f);
  _mm_setcsr(saved);
}
#endif

TEST(AvailableCores, FollowsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(saved), &saved), 0);
  const int cores = available_cores();
  EXPECT_EQ(cores, CPU_COUNT(&saved));
  EXPECT_GE(cores, 1);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(available_cores(), 1);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(available_cores(), cores);
}

TEST(StderrIsTerminal, FalseForAFileTrueForATerminal) {
  {
    const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    StderrTo redirect(fd);
    EXPECT_FALSE(stderr_is_terminal());
    ::close(fd);
  }
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    if (master >= 0) ::close(master);
    GTEST_SKIP() << "no pseudo-terminal here";
  }
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  {
    StderrTo redirect(slave);
    EXPECT_TRUE(stderr_is_terminal());
  }
  ::close(slave);
  ::close(master);
}

TEST(FormatDuration, MinutesSecondsAndHours) {
  EXPECT_EQ(format_duration(0), "00:00");
  EXPECT_EQ(format_duration(0.49), "00:00");
  EXPECT_EQ(format_duration(0.5), "00:01");  // to the nearest second
  EXPECT_EQ(format_duration(59.4), "00:59");
  EXPECT_EQ(format_duration(59.5), "01:00");
  EXPECT_EQ(format_duration(754), "12:34");
  EXPECT_EQ(format_duration(3599.4), "59:59");
  EXPECT_EQ(format_duration(3600), "1:00:00");
  EXPECT_EQ(format_duration(3 * 3600 + 25 * 60 + 7), "3:25:07");
  EXPECT_EQ(format_duration(100 * 3600), "100:00:00");
  EXPECT_EQ(format_duration(1e7), "2777:46:40");
}

TEST(FormatDuration, UnknownForNegativeNaNAndHuge) {
  EXPECT_EQ(format_duration(-1), "--:--");
  EXPECT_EQ(format_duration(-0.001), "--:--");
  EXPECT_EQ(format_duration(std::nan("")), "--:--");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "--:--");
  EXPECT_EQ(format_duration(1e7 + 1), "--:--");
}

TEST(Progress, DrawsABarWithCountsAndFields) {
  Progress p("epoch 1", 24, true, false);
  EXPECT_TRUE(p.visible());
  ::testing::internal::CaptureStderr();
  p.update(0, "starting");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("\r\033[Kepoch 1 [........................] 0/24 starting | ", 0), 0u) << out;
  EXPECT_NE(out.find("ETA --:--"), std::string::npos) << out;  // nothing done: no estimate

  // The last item is always drawn, however soon after the previous one.
  ::testing::internal::CaptureStderr();
  p.update(24, "loss 1.5");
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("\r\033[Kepoch 1 [########################] 24/24 loss 1.5 | ", 0), 0u)
      << out;
  ::testing::internal::CaptureStderr();
  p.finish();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "\r\033[K");
  EXPECT_GE(p.elapsed_seconds(), 0.0);
}

TEST(Progress, HalfDoneFillsHalfTheBar) {
  Progress p("t", 24, true, false);
  ::testing::internal::CaptureStderr();
  p.update(12, "f");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("\r\033[Kt [############............] 12/24 f | ", 0), 0u) << out;
}

TEST(Progress, ATotalOfZeroCountsAsOne) {
  Progress p("t", 0, true, false);
  ::testing::internal::CaptureStderr();
  p.update(1, "x");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("[########################] 1/1 x"), std::string::npos) << out;
}

TEST(Progress, QuietOrNoBarDrawsNothing) {
  for (const bool bar : {false, true}) {
    Progress p("t", 10, bar, /*quiet=*/bar);
    EXPECT_FALSE(p.visible());
    ::testing::internal::CaptureStderr();
    p.update(5, "x");
    p.update(10, "y");
    p.finish();
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "bar " << bar;
  }
  // A visible bar that never drew has nothing to clear.
  Progress p("t", 10, true, false);
  ::testing::internal::CaptureStderr();
  p.finish();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace cvae::core
