// A seeded stream of standard normal floats that is the same on every
// platform and libtorch version: SplitMix64 seeds xoshiro256** (Blackman and
// Vigna 2018), which gives 53-bit uniforms, paired by the Box-Muller transform
// in double precision. The torch-free image sampler draws its noise here.
#pragma once

#include <cstdint>

namespace cvae::lite {

class NormalStream {
 public:
  explicit NormalStream(uint64_t seed);
  uint64_t next_u64();
  double uniform();  // in (0, 1]
  float next();      // N(0, 1)
  void fill(float* out, int64_t n);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace cvae::lite
