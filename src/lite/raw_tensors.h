// Named float32 tensors as plain bytes, readable without torch (and from any
// language; docs/file-format.md):
//   "CVAERAW1"                      8-byte magic
//   u32 count, then for each tensor:
//     u32 n, n bytes                name (UTF-8)
//     u32 d, d x i64                shape
//     prod(shape) x f32             values, row-major
// Integers and floats little-endian. Model files of MLP image models carry the
// inference weights this way too, so `cvae generate` can sample from them
// without loading libtorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvae::lite {

inline constexpr char kRawMagic[] = "CVAERAW1";

struct RawTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

std::string encode_raw_tensors(const std::vector<RawTensor>& tensors);
// Throws CheckpointError naming `what` and the problem on malformed bytes.
std::vector<RawTensor> decode_raw_tensors(const std::string& bytes, const std::string& what);

}  // namespace cvae::lite
