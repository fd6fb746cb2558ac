// IDX reader/writer: round trips (raw and gzip) and every kind of bad file.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "io/idx.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace fs = std::filesystem;
using cvae::io::IdxArray;

namespace {

// A fresh folder for one test, removed afterwards (tests/support).
struct TempDir : cvae::testing::TempDir {
  TempDir() : cvae::testing::TempDir("cvae-data") {}
  std::string str() const { return path(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// Raw IDX bytes: magic 00 00 type ndims, big-endian dims, then `data_bytes` bytes of data.
std::string idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, size_t data_bytes) {
  std::string b = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((d >> s) & 0xff));
  }
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<char>(i % 251));
  return b;
}

IdxArray sample_array(std::vector<int64_t> dims) {
  IdxArray a;
  a.dims = std::move(dims);
  int64_t n = 1;
  for (int64_t d : a.dims) n *= d;
  for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>((i * 7 + 3) % 256));
  return a;
}

using cvae::testing::error_of;

}  // namespace

TEST(IdxTest, RoundTripRaw) {
  TempDir tmp;
  const std::string path = tmp.file("a-idx3-ubyte");
  const IdxArray a = sample_array({3, 4, 5});
  cvae::io::write_idx(path, a);

  const std::string bytes = cvae::core::read_file(path);
  ASSERT_EQ(bytes.size(), 4u + 3 * 4 + 60);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\0\0\x08\x03\0\0\0\x03", 8));

  const IdxArray b = cvae::io::read_idx(path);
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
}

TEST(IdxTest, RoundTripOneAndFourDims) {
  TempDir tmp;
  for (const auto& dims : {std::vector<int64_t>{300}, std::vector<int64_t>{2, 3, 1, 2}}) {
    const std::string path = tmp.file("x");
    const IdxArray a = sample_array(dims);
    cvae::io::write_idx(path, a);
    const IdxArray b = cvae::io::read_idx(path);
    EXPECT_EQ(b.dims, a.dims);
    EXPECT_EQ(b.data, a.data);
  }
}

TEST(IdxTest, RoundTripGzipDetectedByMagicNotName) {
  TempDir tmp;
  const IdxArray a = sample_array({7, 28, 28});
  cvae::io::write_idx(tmp.file("raw"), a);
  // Named without .gz on purpose: detection is by the 1f 8b magic bytes.
  write_gzip(tmp.file("compressed-idx3-ubyte"), cvae::core::read_file(tmp.file("raw")));
  const std::string gz = cvae::core::read_file(tmp.file("compressed-idx3-ubyte"));
  ASSERT_EQ(static_cast<uint8_t>(gz[0]), 0x1f);
  ASSERT_EQ(static_cast<uint8_t>(gz[1]), 0x8b);

  const IdxArray b = cvae::io::read_idx(tmp.file("compressed-idx3-ubyte"));
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
}

TEST(IdxTest, GzipWithTwoMembers) {
  TempDir tmp;
  const IdxArray a = sample_array({5, 6});
  cvae::io::write_idx(tmp.file("raw"), a);
  const std::string raw = cvae::core::read_file(tmp.file("raw"));
  write_gzip(tmp.file("p1.gz"), raw.substr(0, 10));
  write_gzip(tmp.file("p2.gz"), raw.substr(10));
  write_bytes(tmp.file("both.gz"),
              cvae::core::read_file(tmp.file("p1.gz")) + cvae::core::read_file(tmp.file("p2.gz")));
  const IdxArray b = cvae::io::read_idx(tmp.file("both.gz"));
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
}

TEST(IdxTest, BadMagic) {
  TempDir tmp;
  const std::string path = tmp.file("zip");
  write_bytes(path, std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "not an IDX file");
  EXPECT_CONTAINS(msg, "50 4b 03 04");
  EXPECT_CONTAINS(msg, "00 00 08");
}

TEST(IdxTest, UnsupportedType) {
  TempDir tmp;
  const std::string path = tmp.file("floats");
  write_bytes(path, idx_bytes(0x0D, {4}, 16));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "unsupported IDX data type 0x0d");
  EXPECT_CONTAINS(msg, "float32");
  EXPECT_CONTAINS(msg, "unsigned byte (0x08)");
}

TEST(IdxTest, TruncatedDataReportsGotVsExpected) {
  TempDir tmp;
  const std::string path = tmp.file("images");
  write_bytes(path, idx_bytes(0x08, {10, 28, 28}, 1234));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "truncated");
  EXPECT_CONTAINS(msg, "got 1234 bytes");
  EXPECT_CONTAINS(msg, "expected 7840");
  EXPECT_CONTAINS(msg, "10 x 28 x 28");
}

TEST(IdxTest, TruncatedGzippedDataSaysSo) {
  TempDir tmp;
  const std::string path = tmp.file("images.gz");
  write_gzip(path, idx_bytes(0x08, {10, 28, 28}, 7000));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, "got 7000 bytes after gzip decompression");
  EXPECT_CONTAINS(msg, "expected 7840");
}

TEST(IdxTest, TruncatedHeader) {
  TempDir tmp;
  const std::string path = tmp.file("short");
  write_bytes(path, idx_bytes(0x08, {10, 28, 28}, 0).substr(0, 9));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, "truncated IDX header");
  EXPECT_CONTAINS(msg, "got 9 bytes");
  EXPECT_CONTAINS(msg, "expected 16");
}

TEST(IdxTest, TrailingBytes) {
  TempDir tmp;
  const std::string path = tmp.file("labels");
  write_bytes(path, idx_bytes(0x08, {100}, 105));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "5 trailing bytes");
  EXPECT_CONTAINS(msg, "got 105");
  EXPECT_CONTAINS(msg, "expected 100");
}

TEST(IdxTest, WrongNumberOfDims) {
  TempDir tmp;
  const std::string zero = tmp.file("zero");
  write_bytes(zero, idx_bytes(0x08, {}, 1));
  EXPECT_CONTAINS(error_of([&] { cvae::io::read_idx(zero); }), "got 0 dims vs expected 1 to 4");
  const std::string five = tmp.file("five");
  write_bytes(five, idx_bytes(0x08, {1, 1, 1, 1, 1}, 1));
  EXPECT_CONTAINS(error_of([&] { cvae::io::read_idx(five); }), "got 5 dims vs expected 1 to 4");
}

TEST(IdxTest, ZeroItemsRejected) {
  TempDir tmp;
  const std::string path = tmp.file("none");
  write_bytes(path, idx_bytes(0x08, {0, 28, 28}, 0));
  const std::string msg = error_of([&] { cvae::io::read_idx(path); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "dimension 0 is 0");
}

TEST(IdxTest, NegativeAndHugeDims) {
  TempDir tmp;
  const std::string neg = tmp.file("neg");
  write_bytes(neg, idx_bytes(0x08, {0xFFFFFFFFu, 2}, 4));
  EXPECT_CONTAINS(error_of([&] { cvae::io::read_idx(neg); }), "is negative (-1)");
  // 4 dims of 2^31-1 overflow 64 bits; must be a clean truncation error, not a crash.
  const std::string huge = tmp.file("huge");
  write_bytes(huge, idx_bytes(0x08, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}, 4));
  const std::string msg = error_of([&] { cvae::io::read_idx(huge); });
  EXPECT_CONTAINS(msg, "truncated");
  EXPECT_CONTAINS(msg, "got 4 bytes");
}

TEST(IdxTest, EmptyAndMissingFiles) {
  TempDir tmp;
  const std::string empty = tmp.file("empty");
  write_bytes(empty, "");
  std::string msg = error_of([&] { cvae::io::read_idx(empty); });
  EXPECT_CONTAINS(msg, empty);
  EXPECT_CONTAINS(msg, "empty file");
  EXPECT_CONTAINS(msg, "got 0 bytes");

  const std::string missing = tmp.file("missing");
  msg = error_of([&] { cvae::io::read_idx(missing); });
  EXPECT_CONTAINS(msg, missing);
}

TEST(IdxTest, GzipCorruptOrTruncated) {
  TempDir tmp;
  const IdxArray a = sample_array({20, 28, 28});
  cvae::io::write_idx(tmp.file("raw"), a);
  write_gzip(tmp.file("good.gz"), cvae::core::read_file(tmp.file("raw")));
  const std::string gz = cvae::core::read_file(tmp.file("good.gz"));
  ASSERT_GT(gz.size(), 40u);

  // Cut in half: the deflate stream ends early.
  const std::string cut = tmp.file("cut.gz");
  write_bytes(cut, gz.substr(0, gz.size() / 2));
  std::string msg = error_of([&] { cvae::io::read_idx(cut); });
  EXPECT_CONTAINS(msg, cut);
  EXPECT_CONTAINS(msg, "truncated gzip");

  // Damaged CRC in the trailer: zlib's check fails.
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0x5a);
  const std::string crc = tmp.file("crc.gz");
  write_bytes(crc, bad_crc);
  msg = error_of([&] { cvae::io::read_idx(crc); });
  EXPECT_CONTAINS(msg, crc);
  EXPECT_CONTAINS(msg, "corrupt gzip");

  // Garbage in the middle of the stream: some gzip error, never a crash.
  std::string garbled = gz;
  for (size_t i = 12; i < garbled.size() - 10; i += 3) garbled[i] = static_cast<char>(0xff);
  const std::string mid = tmp.file("garbled.gz");
  write_bytes(mid, garbled);
  msg = error_of([&] { cvae::io::read_idx(mid); });
  EXPECT_CONTAINS(msg, mid);
  EXPECT_CONTAINS(msg, "gzip");

  // Junk after the end of the stream.
  const std::string tail = tmp.file("tail.gz");
  write_bytes(tail, gz + "junk");
  msg = error_of([&] { cvae::io::read_idx(tail); });
  EXPECT_CONTAINS(msg, "4 unexpected bytes after the end of the gzip stream");

  // Just the magic bytes.
  const std::string magic = tmp.file("magic.gz");
  write_bytes(magic, std::string("\x1f\x8b", 2));
  msg = error_of([&] { cvae::io::read_idx(magic); });
  EXPECT_CONTAINS(msg, "gzip");
}

TEST(IdxTest, WriteRejectsInconsistentArray) {
  TempDir tmp;
  IdxArray a = sample_array({2, 3});
  a.data.pop_back();
  const std::string path = tmp.file("bad");
  const std::string msg = error_of([&] { cvae::io::write_idx(path, a); });
  EXPECT_CONTAINS(msg, path);
  EXPECT_CONTAINS(msg, "need 6 bytes vs got 5");
  EXPECT_FALSE(fs::exists(path));

  IdxArray no_dims;
  EXPECT_THROW(cvae::io::write_idx(path, no_dims), cvae::DataError);
  IdxArray zero_dim;
  zero_dim.dims = {0};
  EXPECT_THROW(cvae::io::write_idx(path, zero_dim), cvae::DataError);
}

TEST(IdxTest, WriteToMissingFolderIsIoError) {
  TempDir tmp;
  const IdxArray a = sample_array({4});
  EXPECT_THROW(cvae::io::write_idx(tmp.file("no/such/dir/x"), a), cvae::IoError);
}

TEST(IdxTest, PairReadsImagesAndLabels) {
  TempDir tmp;
  const IdxArray images = sample_array({6, 3, 2});
  IdxArray labels;
  labels.dims = {6};
  labels.data = {0, 1, 2, 3, 4, 9};
  cvae::io::write_idx(tmp.file("img"), images);
  cvae::io::write_idx(tmp.file("lbl"), labels);
  const auto s = cvae::io::read_idx_pair(tmp.file("img"), tmp.file("lbl"));
  EXPECT_EQ(s.n, 6);
  EXPECT_EQ(s.height, 3);
  EXPECT_EQ(s.width, 2);
  EXPECT_EQ(s.pixels, images.data);
  EXPECT_EQ(s.labels, labels.data);
}

TEST(IdxTest, PairCountMismatchNamesBothFiles) {
  TempDir tmp;
  const std::string img = tmp.file("train-images-idx3-ubyte");
  const std::string lbl = tmp.file("train-labels-idx1-ubyte");
  cvae::io::write_idx(img, sample_array({100, 2, 2}));
  cvae::io::write_idx(lbl, sample_array({99}));
  const std::string msg = error_of([&] { cvae::io::read_idx_pair(img, lbl); });
  EXPECT_CONTAINS(msg, img);
  EXPECT_CONTAINS(msg, lbl);
  EXPECT_CONTAINS(msg, "100 images");
  EXPECT_CONTAINS(msg, "99 labels");
}

TEST(IdxTest, PairChecksDims) {
  TempDir tmp;
  cvae::io::write_idx(tmp.file("flat"), sample_array({10, 784}));
  cvae::io::write_idx(tmp.file("img"), sample_array({10, 28, 28}));
  cvae::io::write_idx(tmp.file("lbl"), sample_array({10}));
  cvae::io::write_idx(tmp.file("lbl2"), sample_array({10, 1}));

  std::string msg = error_of([&] { cvae::io::read_idx_pair(tmp.file("flat"), tmp.file("lbl")); });
  EXPECT_CONTAINS(msg, tmp.file("flat"));
  EXPECT_CONTAINS(msg, "got 2 dims (10 x 784) vs expected 3");

  msg = error_of([&] { cvae::io::read_idx_pair(tmp.file("img"), tmp.file("lbl2")); });
  EXPECT_CONTAINS(msg, tmp.file("lbl2"));
  EXPECT_CONTAINS(msg, "got 2 dims (10 x 1) vs expected 1");
}

TEST(IdxTest, FindIdxFile) {
  TempDir tmp;
  const std::string stem = "t10k-images-idx3-ubyte";
  std::string msg = error_of([&] { cvae::io::find_idx_file(tmp.str(), stem); });
  EXPECT_CONTAINS(msg, tmp.file(stem) + "'");
  EXPECT_CONTAINS(msg, tmp.file(stem + ".gz"));

  write_bytes(tmp.file(stem + ".gz"), "x");
  EXPECT_EQ(cvae::io::find_idx_file(tmp.str(), stem), tmp.file(stem + ".gz"));
  write_bytes(tmp.file(stem), "x");
  EXPECT_EQ(cvae::io::find_idx_file(tmp.str(), stem), tmp.file(stem));  // raw preferred
}
