#include "lite/raw_tensors.h"

#include <cstring>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace cvae::lite {

namespace {

constexpr char kMagic[] = "CVAERAW1";

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(b, sizeof(T));
}

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& what) : b_(bytes), what_(what) {}
  template <class T>
  T get(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string bytes(size_t n, const char* field) {
    need(n, field);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void need(size_t n, const char* field) const {
    if (n > b_.size() - pos_) {
      throw CheckpointError(fmt::format("{}: raw tensors are truncated at the {} (byte {} of {})",
                                        what_, field, pos_, b_.size()));
    }
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  const std::string& b_;
  const std::string& what_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_raw_tensors(const std::vector<RawTensor>& tensors) {
  std::string out(kMagic, 8);
  put<uint32_t>(out, static_cast<uint32_t>(tensors.size()));
  for (const auto& t : tensors) {
    put<uint32_t>(out, static_cast<uint32_t>(t.name.size()));
    out += t.name;
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) put<int64_t>(out, d);
    out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  return out;
}

std::vector<RawTensor> decode_raw_tensors(const std::string& bytes, const std::string& what) {
  Reader r(bytes, what);
  if (r.bytes(8, "magic") != std::string(kMagic, 8))
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
    r.need(n * sizeof(float), "values");
    t.values.resize(n);
    const std::string v = r.bytes(n * sizeof(float), "values");
    std::memcpy(t.values.data(), v.data(), v.size());
    out.push_back(std::move(t));
  }
  if (!r.done()) throw CheckpointError(fmt::format("{}: raw tensors have trailing bytes", what));
  return out;
}

}  // namespace cvae::lite
