// Threads, terminal detection and progress display. No torch in this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cvae::core {

// Sets the thread count of OpenMP (which OpenBLAS and cvae's own parallel
// regions use) and turns on flush-to-zero for denormals (runtime.cpp has the
// measured reason). n == 0 means all cores. Returns the count in effect.
// ConfigError outside 0..1024. Torch-free: the launcher's generate uses it.
int set_native_threads(int n);

// Cores this process may run on (its CPU affinity mask).
int available_cores();

bool stderr_is_terminal();

// A one-line progress display on a terminal (redrawn in place, with ETA), or
// nothing per item when not a terminal (callers print plain summary lines).
class Progress {
 public:
  Progress(std::string title, int64_t total, bool bar, bool quiet);
  // done items so far and the fields to show, e.g. "loss 101.3 recon 90.1 kl 11.2".
  void update(int64_t done, const std::string& fields);
  // False when update() draws nothing (no terminal bar, or quiet): callers can skip formatting.
  bool visible() const { return bar_ && !quiet_; }
  // Clears the bar line (a summary line is printed by the caller after).
  void finish();
  double elapsed_seconds() const;

 private:
  std::string title_;
  int64_t total_;
  bool bar_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);

}  // namespace cvae::core
