// The model file's container: a JSON header plus named binary blobs, with a
// checksum, written atomically. It knows nothing of tensors or models.
//
//   "CVAEMODL"            8-byte magic
//   u32 version           format version (kContainerVersion)
//   u64 n, n bytes        header, UTF-8 JSON
//   u32 count             number of blobs, then for each:
//     u32 n, n bytes      name
//     u64 n, n bytes      content
//   u32 crc32             zlib CRC-32 of every byte above
//   "CVAE_END"            8-byte end marker
// Integers are little-endian. See docs/file-format.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace cvae::core {

// 2: a model's weights may be raw float32 alone (core/model_header.h); version
// 1 files always hold a torch archive of them.
inline constexpr uint32_t kContainerVersion = 2;

struct Container {
  uint32_t version = kContainerVersion;  // as read; what serialising writes
  nlohmann::json header;
  std::map<std::string, std::string> blobs;
};

// Serialises and writes atomically; throws IoError.
void write_container(const std::string& path, const Container& c);

// Reads and checks magic, version, lengths and checksum; throws CheckpointError
// naming the file and what was wrong.
Container read_container(const std::string& path);

// The same on bytes already in memory (path is only used in messages).
Container parse_container(const std::string& bytes, const std::string& path);
std::string serialize_container(const Container& c);

}  // namespace cvae::core
