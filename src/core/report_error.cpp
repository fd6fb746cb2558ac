#include "core/report_error.h"

#include <exception>
#include <new>
#include <string>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::core {

int report_exception() {
  try {
    throw;
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "error: out of memory (try a smaller --batch-size or fewer samples)\n");
    return 1;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    // libtorch reports a failed allocation as a c10::Error with this text.
    if (what.find("can't allocate memory") != std::string::npos ||
        what.find("not enough memory") != std::string::npos) {
      fmt::print(stderr,
                 "error: out of memory (try a smaller --batch-size, model or sample count)\n");
      return 1;
    }
    fmt::print(stderr, "error: internal error: {}\n", what.substr(0, what.find('\n')));
    return 3;
  } catch (...) {
    fmt::print(stderr, "error: internal error (an unknown exception)\n");
    return 3;
  }
}

}  // namespace cvae::core
