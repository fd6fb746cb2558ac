// Test support: the message of an expected exception, and a substring check on it.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "cvae/errors.h"

namespace cvae::testing {

// The message of the E that f throws; a test failure (and "") when it throws
// nothing or something else.
template <class E = cvae::DataError, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return "";
}

}  // namespace cvae::testing

#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "expected \"" << (needle) << "\" in message: " << (haystack)
