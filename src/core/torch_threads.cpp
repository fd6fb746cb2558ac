// core::set_threads: the native settings (runtime.cpp) and libtorch's own.
#include <torch/torch.h>

#include "core/runtime.h"

namespace cvae::core {

int set_threads(int n) {
  n = set_native_threads(n);
  torch::set_num_threads(n);
  return n;
}

}  // namespace cvae::core
