// How the programs end on an error (src/core/report_error.cpp): the line on
// stderr and the exit status for each kind of exception.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>

#include "core/report_error.h"
#include "cvae/errors.h"

namespace cvae::core {
namespace {

struct Reported {
  int status = -1;
  std::string err;
};

// Throws what `raise` throws, and reports it from the catch block as main() does.
template <class F>
Reported report(F&& raise) {
  Reported r;
  ::testing::internal::CaptureStderr();
  try {
    raise();
    ADD_FAILURE() << "raise() threw nothing";
  } catch (...) {
    r.status = report_exception();
  }
  r.err = ::testing::internal::GetCapturedStderr();
  return r;
}

TEST(ReportException, CvaeErrorsPrintTheirMessageAndExit1) {
  const Reported data = report([] { throw DataError("cannot read 'x' (got 3 vs expected 4)"); });
  EXPECT_EQ(data.status, 1);
  EXPECT_EQ(data.err, "error: cannot read 'x' (got 3 vs expected 4)\n");
  EXPECT_EQ(report([] { throw ConfigError("c"); }).status, 1);
  EXPECT_EQ(report([] { throw CheckpointError("k"); }).status, 1);
  EXPECT_EQ(report([] { throw NumericError("n"); }).status, 1);
  const Reported io = report([] { throw IoError("disk full"); });
  EXPECT_EQ(io.status, 1);
  EXPECT_EQ(io.err, "error: disk full\n");
  // A message with several lines is printed whole: it is cvae's own.
  EXPECT_EQ(report([] { throw Error("one\ntwo"); }).err, "error: one\ntwo\n");
}

TEST(ReportException, OutOfMemoryIsAUserErrorWithAHint) {
  const Reported r = report([] { throw std::bad_alloc(); });
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: out of memory (try a smaller --batch-size or fewer samples)\n");
  // libtorch's wording for a failed allocation, in any exception.
  for (const char* what : {"[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried",
                           "CUDA error: not enough memory"}) {
    const Reported t = report([what] { throw std::runtime_error(what); });
    EXPECT_EQ(t.status, 1) << what;
    EXPECT_EQ(t.err, "error: out of memory (try a smaller --batch-size, model or sample count)\n");
  }
}

TEST(ReportException, AnythingElseIsAnInternalErrorWithItsFirstLine) {
  const Reported r = report([] { throw std::logic_error("index 7 past the end\nat frame 1"); });
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "error: internal error: index 7 past the end\n");
  const Reported unknown = report([] { throw 42; });
  EXPECT_EQ(unknown.status, 3);
  EXPECT_EQ(unknown.err, "error: internal error (an unknown exception)\n");
}

}  // namespace
}  // namespace cvae::core
