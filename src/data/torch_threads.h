// Thread counts for the torch side: core::set_native_threads and libtorch's own.
#pragma once

namespace cvae::data {

// core::set_native_threads(n) (OpenMP, OpenBLAS, flush-to-zero), then
// libtorch's intra-op thread count to the same. Returns the count in effect.
int set_threads(int n);

}  // namespace cvae::data
