// Raw float32 tensors (src/lite/raw_tensors.cpp): the bytes are the layout
// raw_tensors.h and docs/file-format.md give, and malformed bytes (any prefix,
// absurd sizes) are CheckpointErrors naming the file and the field, never a
// crash or a huge allocation. A round trip of several tensors is in
// tests/modalities/image/test_lite_sampler_twin.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "lite/raw_tensors.h"
#include "support/expect_error.h"

namespace cvae::lite {
namespace {

std::string le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// One tensor's record, by hand: name, rank, shape, then the value bytes given.
std::string record(const std::string& name, const std::vector<int64_t>& shape,
                   const std::string& values) {
  std::string b = le(name.size(), 4) + name + le(shape.size(), 4);
  for (int64_t d : shape) b += le(static_cast<uint64_t>(d), 8);
  return b + values;
}

std::string file(uint32_t count, const std::string& records) {
  return "CVAERAW1" + le(count, 4) + records;
}

std::string rejection(const std::string& bytes) {
  return testing::error_of<CheckpointError>([&] { decode_raw_tensors(bytes, "m.cvae"); });
}

// 1.0f = 0x3f800000, -2.0f = 0xc0000000, 0.5f = 0x3f000000, little-endian.
const std::string kOneMinusTwo = le(0x3f800000, 4) + le(0xc0000000, 4);

TEST(RawTensors, EncodingIsTheDocumentedLayout) {
  const std::string bytes =
      encode_raw_tensors({{"ab", {2}, {1.0f, -2.0f}}, {"s", {}, {0.5f}}, {"e", {0, 3}, {}}});
  EXPECT_EQ(bytes, file(3, record("ab", {2}, kOneMinusTwo) + record("s", {}, le(0x3f000000, 4)) +
                               record("e", {0, 3}, "")));
  EXPECT_EQ(encode_raw_tensors({}), std::string("CVAERAW1\0\0\0\0", 12));
}

TEST(RawTensors, DecodesHandWrittenBytes) {
  const auto t = decode_raw_tensors(
      file(2, record("decoder.out.weight", {1, 2}, kOneMinusTwo) + record("", {1}, le(0, 4))),
      "m.cvae");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "decoder.out.weight");
  EXPECT_EQ(t[0].shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(t[0].values, (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(t[1].name, "");
  EXPECT_EQ(t[1].values, (std::vector<float>{0.0f}));
  EXPECT_TRUE(decode_raw_tensors(file(0, ""), "m.cvae").empty());
}

TEST(RawTensors, EveryPrefixIsATruncationNamingTheField) {
  const std::string bytes =
      file(2, record("w", {2, 1}, kOneMinusTwo) + record("b", {1}, kOneMinusTwo.substr(4)));
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::string msg = rejection(bytes.substr(0, len));
    EXPECT_CONTAINS(msg, "m.cvae: raw tensors are truncated at the ");
    EXPECT_CONTAINS(msg, "of " + std::to_string(len) + ")");
  }
  EXPECT_CONTAINS(rejection(bytes.substr(0, 4)), "truncated at the magic (byte 0 of 4)");
  EXPECT_CONTAINS(rejection(bytes.substr(0, 10)), "truncated at the tensor count (byte 8 of 10)");
  EXPECT_CONTAINS(rejection(bytes.substr(0, 16)), "truncated at the name (byte 16 of 16)");
  EXPECT_CONTAINS(rejection(bytes.substr(0, 19)), "truncated at the rank");
  EXPECT_CONTAINS(rejection(bytes.substr(0, 25)), "truncated at the shape");
  EXPECT_CONTAINS(rejection(bytes.substr(0, 40)), "truncated at the values (byte 37 of 40)");
  EXPECT_EQ(decode_raw_tensors(bytes, "m.cvae").size(), 2u);
}

TEST(RawTensors, BadMagicCountAndTrailingBytes) {
  EXPECT_CONTAINS(rejection("CVAERAW2" + le(0, 4)),
                  "m.cvae: raw tensors have a bad magic (expected CVAERAW1)");
  // More tensors announced than present.
  EXPECT_CONTAINS(rejection(file(2, record("a", {1}, le(0, 4)))), "truncated at the name length");
  EXPECT_CONTAINS(rejection(file(1, record("a", {1}, le(0, 4))) + "x"),
                  "m.cvae: raw tensors have trailing bytes");
}

TEST(RawTensors, AbsurdShapesAreRejectedBeforeAllocating) {
  EXPECT_CONTAINS(rejection(file(1, record("r", std::vector<int64_t>(9, 1), le(0, 4)))),
                  "m.cvae: tensor 'r' has rank 9 (expected at most 8)");
  EXPECT_CONTAINS(rejection(file(1, record("n", {-1}, ""))), "tensor 'n' has a bad size -1");
  EXPECT_CONTAINS(rejection(file(1, record("big", {(int64_t{1} << 32) + 1}, ""))),
                  "tensor 'big' has a bad size 4294967297");
  // Each size allowed, the product not: 2^20 x 2^20 values.
  EXPECT_CONTAINS(rejection(file(1, record("sq", {1 << 20, 1 << 20}, ""))),
                  "tensor 'sq' is too large");
  // 2^32 values (16 GiB) announced in a few bytes: a truncation, not an allocation.
  EXPECT_CONTAINS(rejection(file(1, record("v", {int64_t{1} << 32}, "abcd"))),
                  "truncated at the values");
  // A name length of 4 GiB in a short file.
  EXPECT_CONTAINS(rejection(file(1, le(0xffffffffu, 4) + "abc")), "truncated at the name");
}

}  // namespace
}  // namespace cvae::lite
