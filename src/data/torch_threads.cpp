#include "data/torch_threads.h"

#include <torch/torch.h>

#include "core/runtime.h"

namespace cvae::data {

int set_threads(int n) {
  n = core::set_native_threads(n);
  torch::set_num_threads(n);
  return n;
}

}  // namespace cvae::data
