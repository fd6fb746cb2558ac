// The torch-free sampler's noise (src/lite/normal_stream.cpp) against the
// algorithms it names: SplitMix64 seeding xoshiro256**, 53-bit uniforms in
// (0, 1], Box-Muller pairs. The expected values come from a transcription of
// the reference C code in Python (checked against the published vectors:
// SplitMix64(0) starts e220a8397b1dcdaf; xoshiro256** from state {1, 2, 3, 4}
// gives 11520, 0, 1509978240, 1215971899390074240). Its statistics are
// checked in tests/modalities/image/test_lite_sampler_twin.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "lite/normal_stream.h"

namespace cvae::lite {
namespace {

TEST(NormalStream, RawOutputsAreXoshiro256StarStarSeededBySplitMix64) {
  const std::vector<std::pair<uint64_t, std::vector<uint64_t>>> want = {
      {0,
       {11091344671253066420ULL, 13793997310169335082ULL, 1900383378846508768ULL,
        7684712102626143532ULL}},
      {1,
       {12966619160104079557ULL, 9600361134598540522ULL, 10590380919521690900ULL,
        7218738570589545383ULL}},
      {42,
       {1546998764402558742ULL, 6990951692964543102ULL, 12544586762248559009ULL,
        17057574109182124193ULL}},
  };
  for (const auto& [seed, outputs] : want) {
    NormalStream s(seed);
    for (size_t i = 0; i < outputs.size(); ++i)
      EXPECT_EQ(s.next_u64(), outputs[i]) << "seed " << seed << " output " << i;
  }
}

TEST(NormalStream, UniformIsTheTop53BitsPlusOneOver2To53) {
  NormalStream a(7), b(7);
  double lo = 1, hi = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = a.uniform();
    // Exact: a 53-bit integer converts to double exactly, and 2^-53 is a power of two.
    ASSERT_EQ(u, static_cast<double>((b.next_u64() >> 11) + 1) * 0x1.0p-53) << i;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_GT(lo, 0.0);
  EXPECT_LE(hi, 1.0);
  EXPECT_LT(lo, 1e-3);  // and it spans the interval
  EXPECT_GT(hi, 1 - 1e-3);
}

TEST(NormalStream, NormalsAreBoxMullerPairsInDouble) {
  // Seed 42's first twelve normals (r cos, r sin of each pair of uniforms), in double.
  const double want[] = {-1.6132237513849164, 1.5344873235334187,   0.7816920450573492,
                         -0.4001934943234841, 0.015871293375984967, -0.12730993137685462,
                         0.4772168184355818,  -0.6567593236191075,  -0.6394511082571307,
                         -0.3692728608912485, -0.22099378992989457, 0.8457454489696848};
  NormalStream s(42);
  for (size_t i = 0; i < std::size(want); ++i) {
    // The float rounding of the double (half an ulp, 2^-24 relative) plus a
    // few double ulps of log, sqrt, sin and cos from the platform's libm.
    const double budget = std::abs(want[i]) * 0x1.0p-24 + 1e-12;
    EXPECT_NEAR(s.next(), want[i], budget) << i;
  }
}

TEST(NormalStream, FillIsSuccessiveDrawsAcrossCalls) {
  NormalStream one(3), parts(3);
  std::vector<float> whole(9), split(9);
  for (auto& v : whole) v = one.next();
  // An odd first part leaves the second half of a pair for the next call.
  parts.fill(split.data(), 3);
  split[3] = parts.next();
  parts.fill(split.data() + 4, 5);
  EXPECT_EQ(split, whole);
  parts.fill(nullptr, 0);  // nothing to do
}

}  // namespace
}  // namespace cvae::lite
