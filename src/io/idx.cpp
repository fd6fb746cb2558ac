#include "io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"

namespace cvae::io {
namespace {

constexpr uint8_t kTypeUnsignedByte = 0x08;
constexpr int kMaxDims = 4;

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
         static_cast<uint8_t>(bytes[1]) == 0x8b;
}

// Largest IDX content accepted from a .gz file (Fashion-MNIST's train images are 47 MB).
constexpr size_t kMaxDecompressed = size_t{8} << 30;

// Inflates a whole gzip file (one or more concatenated members) held in memory.
std::string gunzip(const std::string& path, const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    throw DataError(fmt::format("cannot read '{}': zlib failed to initialise", path));
  }
  std::string out;
  std::string chunk(1 << 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  // zlib counts in uInt; feed the input in pieces so that files over 4 GiB work too.
  size_t fed = 0;
  auto refill = [&]() {
    if (zs.avail_in == 0 && fed < in.size()) {
      size_t piece = std::min<size_t>(in.size() - fed, std::numeric_limits<uInt>::max());
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      zs.avail_in = static_cast<uInt>(piece);
      fed += piece;
    }
  };
  auto fail = [&](const std::string& what) {
    inflateEnd(&zs);
    throw DataError(fmt::format("cannot read '{}': {}", path, what));
  };
  for (;;) {
    refill();
    zs.next_out = reinterpret_cast<Bytef*>(chunk.data());
    zs.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - zs.avail_out);
    if (out.size() > kMaxDecompressed) {
      fail(fmt::format(
          "gzip data expands past {} GiB (expected an IDX file; a corrupt or hostile .gz?)",
          kMaxDecompressed >> 30));
    }
    if (rc == Z_STREAM_END) {
      refill();
      if (zs.avail_in == 0) break;  // all input used: done
      // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is junk.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      size_t left = zs.avail_in + (in.size() - fed);
      fail(fmt::format("corrupt gzip data ({} unexpected bytes after the end of the gzip stream)",
                       left));
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      fail(fmt::format("corrupt gzip data ({}) after {} compressed bytes",
                       zs.msg ? zs.msg : "invalid data", zs.total_in));
    }
    if (rc == Z_MEM_ERROR) fail("out of memory while decompressing gzip data");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      fail(fmt::format("gzip decompression failed (zlib {})", rc));
    if (rc == Z_BUF_ERROR ||
        (rc == Z_OK && zs.avail_in == 0 && fed == in.size() && zs.avail_out != 0)) {
      // No progress possible: the input ended before the gzip end marker.
      refill();
      if (zs.avail_in == 0) {
        fail(fmt::format(
            "truncated gzip data (the compressed stream ends early: got {} compressed bytes, "
            "{} bytes decompressed so far)",
            in.size(), out.size()));
      }
    }
  }
  inflateEnd(&zs);
  return out;
}

const char* type_name(uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += " x ";
    s += std::to_string(dims[i]);
  }
  return s;
}

uint32_t read_be32(const std::string& b, size_t pos) {
  return (uint32_t{static_cast<uint8_t>(b[pos])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[pos + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[pos + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(b[pos + 3])};
}

void put_be32(std::string& b, uint32_t v) {
  b.push_back(static_cast<char>((v >> 24) & 0xff));
  b.push_back(static_cast<char>((v >> 16) & 0xff));
  b.push_back(static_cast<char>((v >> 8) & 0xff));
  b.push_back(static_cast<char>(v & 0xff));
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::string bytes = core::read_file(path);
  const bool gz = is_gzip(bytes);
  if (gz) bytes = gunzip(path, bytes);
  const char* where = gz ? " after gzip decompression" : "";

  if (bytes.size() < 4) {
    throw DataError(fmt::format(
        "cannot read '{}': {} (got {} bytes{} vs expected at least 4 for the IDX header)", path,
        bytes.empty() ? "empty file" : "too short for an IDX header", bytes.size(), where));
  }
  const auto b0 = static_cast<uint8_t>(bytes[0]), b1 = static_cast<uint8_t>(bytes[1]);
  const auto type = static_cast<uint8_t>(bytes[2]), ndims = static_cast<uint8_t>(bytes[3]);
  if (b0 != 0 || b1 != 0) {
    throw DataError(fmt::format(
        "cannot read '{}': not an IDX file (got magic bytes {:02x} {:02x} {:02x} {:02x} vs "
        "expected 00 00 08 <ndims>)",
        path, b0, b1, type, ndims));
  }
  if (type != kTypeUnsignedByte) {
    throw DataError(fmt::format(
        "cannot read '{}': unsupported IDX data type 0x{:02x} ({}); only unsigned byte (0x08) "
        "is supported",
        path, type, type_name(type)));
  }
  if (ndims < 1 || ndims > kMaxDims) {
    throw DataError(
        fmt::format("cannot read '{}': bad IDX header (got {} dims vs expected 1 to {})", path,
                    ndims, kMaxDims));
  }
  const size_t header = 4 + 4 * size_t{ndims};
  if (bytes.size() < header) {
    throw DataError(fmt::format(
        "cannot read '{}': truncated IDX header (got {} bytes{} vs expected {} for {} dims)", path,
        bytes.size(), where, header, ndims));
  }

  IdxArray a;
  a.dims.reserve(ndims);
  uint64_t expected = 1;
  bool overflow = false;
  for (int i = 0; i < ndims; ++i) {
    const uint32_t d = read_be32(bytes, 4 + 4 * static_cast<size_t>(i));
    if (d > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
      throw DataError(fmt::format("cannot read '{}': IDX dimension {} is negative ({})", path, i,
                                  static_cast<int64_t>(d) - (int64_t{1} << 32)));
    }
    a.dims.push_back(static_cast<int64_t>(d));
    if (!overflow && __builtin_mul_overflow(expected, uint64_t{d}, &expected)) overflow = true;
  }
  for (int i = 0; i < ndims; ++i) {
    if (a.dims[i] == 0) {
      throw DataError(fmt::format(
          "cannot read '{}': IDX dimension {} is 0 (dims {}); {} holds no {}", path, i,
          dims_string(a.dims), i == 0 ? "the file" : "each item", i == 0 ? "items" : "data"));
    }
  }

  const uint64_t got = bytes.size() - header;
  if (overflow || got < expected) {
    throw DataError(fmt::format(
        "cannot read '{}': truncated IDX data (got {} bytes{} vs expected {} for dims {})", path,
        got, where, overflow ? std::string("more than 2^64") : std::to_string(expected),
        dims_string(a.dims)));
  }
  if (got > expected) {
    throw DataError(fmt::format(
        "cannot read '{}': {} trailing bytes after the IDX data (got {} data bytes{} vs expected "
        "{} for dims {})",
        path, got - expected, got, where, expected, dims_string(a.dims)));
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return a;
}

void write_idx(const std::string& path, const IdxArray& a) {
  if (a.dims.empty() || a.dims.size() > static_cast<size_t>(kMaxDims)) {
    throw DataError(fmt::format("cannot write '{}': IDX arrays have 1 to {} dims (got {})", path,
                                kMaxDims, a.dims.size()));
  }
  uint64_t expected = 1;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    const int64_t d = a.dims[i];
    if (d <= 0 || d > std::numeric_limits<int32_t>::max()) {
      throw DataError(fmt::format("cannot write '{}': IDX dimension {} is {} (expected 1 to {})",
                                  path, i, d, std::numeric_limits<int32_t>::max()));
    }
    if (__builtin_mul_overflow(expected, static_cast<uint64_t>(d), &expected)) {
      expected = std::numeric_limits<uint64_t>::max();
    }
  }
  if (expected != a.data.size()) {
    throw DataError(
        fmt::format("cannot write '{}': IDX dims {} need {} bytes vs got {} bytes of data", path,
                    dims_string(a.dims), expected, a.data.size()));
  }
  std::string out;
  out.reserve(4 + 4 * a.dims.size() + a.data.size());
  out.push_back('\0');
  out.push_back('\0');
  out.push_back(static_cast<char>(kTypeUnsignedByte));
  out.push_back(static_cast<char>(a.dims.size()));
  for (int64_t d : a.dims) put_be32(out, static_cast<uint32_t>(d));
  out.append(reinterpret_cast<const char*>(a.data.data()), a.data.size());
  core::write_file_atomic(path, out);
}

ImageLabelSet read_idx_pair(const std::string& images_path, const std::string& labels_path) {
  IdxArray images = read_idx(images_path);
  if (images.dims.size() != 3) {
    throw DataError(fmt::format(
        "cannot use '{}' as images: got {} dims ({}) vs expected 3 (count x height x width)",
        images_path, images.dims.size(), dims_string(images.dims)));
  }
  IdxArray labels = read_idx(labels_path);
  if (labels.dims.size() != 1) {
    throw DataError(fmt::format("cannot use '{}' as labels: got {} dims ({}) vs expected 1 (count)",
                                labels_path, labels.dims.size(), dims_string(labels.dims)));
  }
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(
        fmt::format("image and label counts differ: '{}' holds {} images vs '{}' holds {} labels",
                    images_path, images.dims[0], labels_path, labels.dims[0]));
  }
  ImageLabelSet s;
  s.n = images.dims[0];
  s.height = images.dims[1];
  s.width = images.dims[2];
  s.pixels = std::move(images.data);
  s.labels = std::move(labels.data);
  return s;
}

std::string find_idx_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const std::string raw = (fs::path(dir) / stem).string();
  const std::string gz = raw + ".gz";
  std::error_code ec;
  if (fs::is_regular_file(raw, ec)) return raw;
  if (fs::is_regular_file(gz, ec)) return gz;
  throw DataError(
      fmt::format("cannot find IDX file '{}' in '{}' (tried '{}' and '{}')", stem, dir, raw, gz));
}

std::vector<std::string> write_idx_samples(const std::string& prefix, std::vector<uint8_t> images,
                                           std::vector<int64_t> image_dims,
                                           const std::vector<std::vector<int64_t>>& labels) {
  IdxArray img;
  img.dims = std::move(image_dims);
  if (img.dims.size() == 4 && img.dims[1] == 1) img.dims.erase(img.dims.begin() + 1);  // N x H x W
  img.data = std::move(images);
  IdxArray lab;
  const int64_t k = labels.empty() ? 1 : static_cast<int64_t>(labels[0].size());
  lab.dims = {static_cast<int64_t>(labels.size())};
  if (k > 1) lab.dims.push_back(k);
  for (const auto& row : labels) {
    for (int64_t v : row) {
      if (v < 0 || v > 255) throw ConfigError("IDX labels hold at most 256 label values");
      lab.data.push_back(static_cast<uint8_t>(v));
    }
  }
  const std::string ipath = prefix + "-images-idx3-ubyte";
  const std::string lpath = prefix + "-labels-idx1-ubyte";
  write_idx(ipath, img);
  write_idx(lpath, lab);
  return {ipath, lpath};
}

std::string idx_prefix(std::string out) {
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".png") == 0) out.resize(out.size() - 4);
  return out;
}

}  // namespace cvae::io
