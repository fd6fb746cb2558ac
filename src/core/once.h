// Registering built-ins once, when the registering itself looks the registry
// up (which registers built-ins first). Torch-free.
#pragma once

#include <mutex>
#include <utility>

namespace cvae::core {

// Runs f once for `once`. A call made on this thread while f runs (f's own
// lookups) returns at once instead of waiting on itself; `running` is the
// caller's thread_local flag for that. If f throws, a later call runs it again.
template <class F>
void call_once_reentrant(std::once_flag& once, bool& running, F&& f) {
  if (running) return;
  std::call_once(once, [&] {
    running = true;
    try {
      std::forward<F>(f)();
    } catch (...) {
      running = false;
      throw;
    }
    running = false;
  });
}

}  // namespace cvae::core
