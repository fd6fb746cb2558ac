// The model file container: round trip, and every kind of damage is a clear
// CheckpointError rather than a crash or a silent wrong answer.
#include <gtest/gtest.h>

#include <zlib.h>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/atomic_file.h"
#include "core/container.h"
#include "cvae/errors.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace cvae::core {
namespace {

Container sample_container() {
  Container c;
  c.header = {{"program", "cvae"}, {"n", 3}};
  c.blobs["weights"] = std::string("\x00\x01\x02\xff", 4);
  c.blobs["resume/optimizer"] = std::string(1000, 'x');
  return c;
}

// Little-endian n-byte integer.
std::string le(uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// A container built by hand from the layout in container.h.
// `version` is written by hand: 2 is the current layout's number (docs/file-format.md).
std::string hand_made(const std::string& header,
                      const std::vector<std::pair<std::string, std::string>>& blobs,
                      uint32_t version = 2) {
  std::string b = "CVAEMODL" + le(version, 4) + le(header.size(), 8) + header + le(blobs.size(), 4);
  for (const auto& [name, content] : blobs)
    b += le(name.size(), 4) + name + le(content.size(), 8) + content;
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data()),
                          static_cast<uInt>(b.size()));
  return b + le(crc, 4) + "CVAE_END";
}

std::string error_of(const std::string& bytes) {
  try {
    parse_container(bytes, "m.cvae");
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

TEST(Container, RoundTrip) {
  auto bytes = serialize_container(sample_container());
  auto c = parse_container(bytes, "m.cvae");
  EXPECT_EQ(c.header["n"], 3);
  EXPECT_EQ(c.blobs.size(), 2u);
  EXPECT_EQ(c.blobs["weights"], std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(c.blobs["resume/optimizer"], std::string(1000, 'x'));
}

TEST(Container, EveryTruncationIsAClearError) {
  auto bytes = serialize_container(sample_container());
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::string msg = error_of(bytes.substr(0, len));
    ASSERT_FALSE(msg.empty()) << "truncated to " << len << " bytes was accepted";
    if (len >= 8) {
      EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                  msg.find("corrupt") != std::string::npos)
          << len << ": " << msg;
    }
  }
}

TEST(Container, EveryFlippedByteIsDetected) {
  auto bytes = serialize_container(sample_container());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    EXPECT_FALSE(error_of(bad).empty()) << "flip at byte " << i << " was accepted";
  }
}

TEST(Container, ForeignFilesAndNewerVersionsAreNamed) {
  EXPECT_NE(error_of("\x89PNG\r\n\x1a\nrest").find("not a cvae model file"), std::string::npos);
  EXPECT_NE(error_of("PK\x03\x04 a torch zip").find("not a cvae model file"), std::string::npos);
  auto bytes = serialize_container(sample_container());
  bytes[8] = 9;  // version 9
  EXPECT_NE(error_of(bytes).find("format version 9"), std::string::npos) << error_of(bytes);
  const auto good = serialize_container(sample_container());
  EXPECT_NE(error_of(good + "x").find("trailing"), std::string::npos) << error_of(good + "x");
}

TEST(Container, OlderVersionsStillReadAndSayWhichTheyAre) {
  EXPECT_EQ(parse_container(serialize_container(sample_container()), "m").version,
            kContainerVersion);
  for (uint32_t v = 1; v <= kContainerVersion; ++v) {
    Container c = sample_container();
    c.version = v;
    const Container back = parse_container(serialize_container(c), "m");
    EXPECT_EQ(back.version, v);
    EXPECT_EQ(back.blobs, c.blobs);
  }
  Container next = sample_container();
  next.version = kContainerVersion + 1;
  EXPECT_NE(
      error_of(serialize_container(next))
          .find(fmt::format("format version {} (expected 1..{}; it was written by a newer cvae)",
                            kContainerVersion + 1, kContainerVersion)),
      std::string::npos);
}

TEST(Container, FileRoundTripAndFileErrorsNameThePath) {
  testing::TempDir dir("cvae-container");
  const std::string path = dir.file("m.cvae");
  write_container(path, sample_container());
  EXPECT_EQ(read_file(path), serialize_container(sample_container()));
  const Container c = read_container(path);
  EXPECT_EQ(c.header["program"], "cvae");
  EXPECT_EQ(c.blobs.at("resume/optimizer"), std::string(1000, 'x'));

  // A missing file and a directory are CheckpointErrors (not the reader's DataError).
  const std::string missing = dir.file("none.cvae");
  EXPECT_CONTAINS(testing::error_of<CheckpointError>([&] { read_container(missing); }), missing);
  EXPECT_CONTAINS(testing::error_of<CheckpointError>([&] { read_container(dir.path()); }),
                  "is a directory");
  // A damaged file names itself.
  std::string bytes = read_file(path);
  bytes[20] = static_cast<char>(bytes[20] ^ 1);
  write_file_atomic(path, bytes);
  EXPECT_CONTAINS(testing::error_of<CheckpointError>([&] { read_container(path); }),
                  "'" + path + "'");
}

TEST(Container, BytesFollowTheDocumentedLayout) {
  // The layout of container.h, written out by hand with zlib's CRC-32.
  const std::string header = R"({"n":3,"program":"cvae"})";  // JSON keys sorted, no spaces
  const std::string bytes = serialize_container(sample_container());
  const std::string want = hand_made(
      header, {{"resume/optimizer", std::string(1000, 'x')}, {"weights", {"\x00\x01\x02\xff", 4}}});
  EXPECT_EQ(bytes, want);
  // A version 1 file differs only in its version field, and is written back as it was read.
  const std::string v1 = hand_made(
      header, {{"resume/optimizer", std::string(1000, 'x')}, {"weights", {"\x00\x01\x02\xff", 4}}},
      1);
  EXPECT_EQ(serialize_container(parse_container(v1, "v1.cvae")), v1);
}

TEST(Container, EmptyHeaderAndNoBlobs) {
  const std::string bytes = hand_made("{}", {});
  EXPECT_EQ(bytes.size(), 38u);  // 8 + 4 + 8 + 2 + 4 + 4 + 8
  const Container back = parse_container(bytes, "e.cvae");
  EXPECT_TRUE(back.header.is_object());
  EXPECT_TRUE(back.header.empty());
  EXPECT_TRUE(back.blobs.empty());
  EXPECT_EQ(serialize_container(back), bytes);
}

TEST(Container, UnparsableHeaderIsNamed) {
  // Lengths and checksum hold; the header is not JSON.
  const std::string msg = error_of(hand_made("{not json", {{"weights", "w"}}));
  EXPECT_CONTAINS(msg, "'m.cvae'");
  EXPECT_CONTAINS(msg, "unreadable header");
}

}  // namespace
}  // namespace cvae::core
