#include "core/container.h"

#include <cstring>

#include <fmt/format.h>
#include <zlib.h>

#include "core/atomic_file.h"
#include "core/byte_io.h"
#include "cvae/errors.h"

namespace cvae::core {
namespace {

constexpr char kMagic[8] = {'C', 'V', 'A', 'E', 'M', 'O', 'D', 'L'};
constexpr char kEnd[8] = {'C', 'V', 'A', 'E', '_', 'E', 'N', 'D'};

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char ch : s)
    out += (ch >= 32 && ch < 127) ? std::string(1, static_cast<char>(ch))
                                  : fmt::format("\\x{:02x}", ch);
  return out;
}

}  // namespace

std::string serialize_container(const Container& c) {
  std::string out(kMagic, sizeof(kMagic));
  put_le<uint32_t>(out, c.version);
  const std::string header = c.header.dump();
  put_le<uint64_t>(out, header.size());
  out += header;
  put_le<uint32_t>(out, static_cast<uint32_t>(c.blobs.size()));
  for (const auto& [name, content] : c.blobs) {
    put_le<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    put_le<uint64_t>(out, content.size());
    out += content;
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib's crc32 takes uInt lengths; feed it in chunks for files over 4 GiB.
  for (size_t off = 0; off < out.size(); off += (1u << 30)) {
    const size_t n = std::min<size_t>(out.size() - off, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + off), static_cast<uInt>(n));
  }
  put_le<uint32_t>(out, static_cast<uint32_t>(crc));
  out.append(kEnd, sizeof(kEnd));
  return out;
}

void write_container(const std::string& path, const Container& c) {
  write_file_atomic(path, serialize_container(c));
}

Container parse_container(const std::string& b, const std::string& path) {
  if (b.size() < sizeof(kMagic) || std::memcmp(b.data(), kMagic, sizeof(kMagic)) != 0) {
    throw CheckpointError(
        fmt::format("'{}' is not a cvae model file (starts with '{}' vs expected 'CVAEMODL')", path,
                    printable(b.substr(0, 8))));
  }
  ByteReader r(b, [&path](const char* field, size_t pos, uint64_t n, size_t size) {
    throw CheckpointError(
        fmt::format("model file '{}' is truncated while reading its {} (got {} bytes vs "
                    "expected at least {})",
                    path, field, size, pos + n));
  });
  r.bytes(sizeof(kMagic), "magic");
  const uint32_t version = r.get<uint32_t>("format version");
  if (version == 0 || version > kContainerVersion) {
    throw CheckpointError(
        fmt::format("model file '{}' has format version {} (expected 1..{}; it was written by "
                    "a newer cvae)",
                    path, version, kContainerVersion));
  }
  Container c;
  c.version = version;
  const uint64_t header_len = r.get<uint64_t>("header length");
  const std::string header = r.bytes(header_len, "header");
  const uint32_t count = r.get<uint32_t>("blob count");
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t name_len = r.get<uint32_t>("blob name length");
    std::string name = r.bytes(name_len, "blob name");
    const uint64_t size = r.get<uint64_t>("blob size");
    c.blobs[name] = r.bytes(size, "blob content");
  }
  const size_t body = r.pos();
  const uint32_t stored = r.get<uint32_t>("checksum");
  const std::string end = r.bytes(sizeof(kEnd), "end marker");
  if (std::memcmp(end.data(), kEnd, sizeof(kEnd)) != 0) {
    throw CheckpointError(
        fmt::format("model file '{}' is corrupt (end marker '{}' vs expected 'CVAE_END')", path,
                    printable(end)));
  }
  if (r.pos() != b.size()) {
    throw CheckpointError(
        fmt::format("model file '{}' has trailing bytes (got {} bytes vs expected {})", path,
                    b.size(), r.pos()));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t off = 0; off < body; off += (1u << 30)) {
    const size_t n = std::min<size_t>(body - off, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(b.data() + off), static_cast<uInt>(n));
  }
  if (static_cast<uint32_t>(crc) != stored) {
    throw CheckpointError(
        fmt::format("model file '{}' is corrupt (checksum {:08x} vs expected {:08x})", path,
                    static_cast<uint32_t>(crc), stored));
  }
  try {
    c.header = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(
        fmt::format("model file '{}' has an unreadable header ({})", path, e.what()));
  }
  return c;
}

Container read_container(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const DataError& e) {
    throw CheckpointError(e.what());
  }
  return parse_container(bytes, path);
}

}  // namespace cvae::core
