#include "lite/raw_tensors.h"

#include <cstring>

#include <fmt/format.h>

#include "core/byte_io.h"
#include "cvae/errors.h"

namespace cvae::lite {

std::string encode_raw_tensors(const std::vector<RawTensor>& tensors) {
  std::string out(kRawMagic, 8);
  core::put_le<uint32_t>(out, static_cast<uint32_t>(tensors.size()));
  for (const auto& t : tensors) {
    core::put_le<uint32_t>(out, static_cast<uint32_t>(t.name.size()));
    out += t.name;
    core::put_le<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) core::put_le<int64_t>(out, d);
    out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  return out;
}

std::vector<RawTensor> decode_raw_tensors(const std::string& bytes, const std::string& what) {
  core::ByteReader r(bytes, [&what](const char* field, size_t pos, uint64_t, size_t size) {
    throw CheckpointError(fmt::format("{}: raw tensors are truncated at the {} (byte {} of {})",
                                      what, field, pos, size));
  });
  if (r.bytes(8, "magic") != std::string(kRawMagic, 8))
    throw CheckpointError(
        fmt::format("{}: raw tensors have a bad magic (expected CVAERAW1)", what));
  const uint32_t count = r.get<uint32_t>("tensor count");
  std::vector<RawTensor> out;
  for (uint32_t i = 0; i < count; ++i) {
    RawTensor t;
    t.name = r.bytes(r.get<uint32_t>("name length"), "name");
    const uint32_t dims = r.get<uint32_t>("rank");
    if (dims > 8)
      throw CheckpointError(
          fmt::format("{}: tensor '{}' has rank {} (expected at most 8)", what, t.name, dims));
    uint64_t n = 1;
    for (uint32_t d = 0; d < dims; ++d) {
      const int64_t s = r.get<int64_t>("shape");
      if (s < 0 || s > (int64_t{1} << 32)) {
        throw CheckpointError(fmt::format("{}: tensor '{}' has a bad size {}", what, t.name, s));
      }
      t.shape.push_back(s);
      n *= static_cast<uint64_t>(s);
      if (n > (uint64_t{1} << 36))
        throw CheckpointError(fmt::format("{}: tensor '{}' is too large", what, t.name));
    }
    const char* v = r.take(n * sizeof(float), "values");  // checked before allocating
    t.values.resize(n);
    std::memcpy(t.values.data(), v, n * sizeof(float));  // little-endian hosts only
    out.push_back(std::move(t));
  }
  if (!r.done()) throw CheckpointError(fmt::format("{}: raw tensors have trailing bytes", what));
  return out;
}

}  // namespace cvae::lite
