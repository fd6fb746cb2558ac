// IDX files (the MNIST format: http://yann.lecun.com/exdb/mnist/), raw or gzip-compressed.
//
// Layout: magic 0x00 0x00 <type> <ndims>, then ndims big-endian int32 sizes, then the data
// in row-major order. Only the unsigned-byte type (0x08) is supported. Files that start with
// the gzip magic bytes 1f 8b are decompressed first, whatever their name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvae::io {

struct IdxArray {
  std::vector<int64_t> dims;  // 1 to 4 sizes, each > 0
  std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads an IDX file (raw or gzip). Throws DataError naming the file when it is missing, empty,
// not IDX (bad magic), of another data type than unsigned byte, has 0 or more than 4 dims, a
// dim of 0, truncated or trailing data (got vs expected bytes), or a corrupt/truncated gzip.
IdxArray read_idx(const std::string& path);

// Writes a raw (uncompressed) IDX file of unsigned bytes, atomically. Throws DataError when
// the array is malformed (dims count, a dim out of range, product(dims) != data.size()) and
// IoError when the write fails.
void write_idx(const std::string& path, const IdxArray& a);

// Writes samples and their labels as PREFIX-images-idx3-ubyte (N x H x W when
// one channel, else N x C x H x W) and PREFIX-labels-idx1-ubyte (N, or N x K
// label indices when there are K > 1 conditions), atomically. image_dims is
// (N, C, H, W); labels holds one row of K label indices per sample. Returns the
// two paths. ConfigError when a label index is above 255.
std::vector<std::string> write_idx_samples(const std::string& prefix, std::vector<uint8_t> images,
                                           std::vector<int64_t> image_dims,
                                           const std::vector<std::vector<int64_t>>& labels);

// The IDX prefix that `generate --out` names: "x.png" -> "x", anything else as it is.
std::string idx_prefix(std::string out);

struct ImageLabelSet {
  int64_t n = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // n * height * width, row-major, one image after another
  std::vector<uint8_t> labels;  // n
};

// Reads an images file (3-d: n x height x width) and a labels file (1-d: n) and checks that
// they hold the same number of items. Label values are returned as stored (not range-checked).
ImageLabelSet read_idx_pair(const std::string& images_path, const std::string& labels_path);

// Returns dir/stem when it exists, else dir/stem.gz when that exists; throws DataError listing
// both tried paths when neither does.
std::string find_idx_file(const std::string& dir, const std::string& stem);

}  // namespace cvae::io
