// Little-endian fields in byte strings, shared by cvae's binary formats: the
// model-file container (core/container.cpp) and the raw tensors the torch-free
// sampler reads (lite/raw_tensors.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace cvae::core {

// Appends the integer v, little-endian.
template <class T>
void put_le(std::string& out, T v) {
  static_assert(std::is_integral_v<T>, "put_le writes integers");
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

// Reads fields in order from `bytes` (which must outlive it). A field that runs
// past the end calls `truncated(field, pos, n, size)`, which throws the format's
// own error: the field's name, where it starts, its length, and the total size.
class ByteReader {
 public:
  using Truncated = std::function<void(const char* field, size_t pos, uint64_t n, size_t size)>;
  ByteReader(const std::string& bytes, Truncated truncated)
      : b_(bytes), truncated_(std::move(truncated)) {}

  // A little-endian integer.
  template <class T>
  T get(const char* field) {
    static_assert(std::is_integral_v<T>, "get reads integers");
    const char* p = take(sizeof(T), field);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return static_cast<T>(v);
  }
  // The next n bytes, copied.
  std::string bytes(uint64_t n, const char* field) {
    const char* p = take(n, field);
    return std::string(p, static_cast<size_t>(n));
  }
  // The next n bytes, in place.
  const char* take(uint64_t n, const char* field) {
    need(n, field);
    const char* p = b_.data() + pos_;
    pos_ += static_cast<size_t>(n);
    return p;
  }
  // Throws (through `truncated`) unless n more bytes are left.
  void need(uint64_t n, const char* field) const {
    if (n > b_.size() - pos_) {
      truncated_(field, pos_, n, b_.size());
      throw std::logic_error("ByteReader: the truncated callback returned");
    }
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == b_.size(); }

 private:
  const std::string& b_;
  Truncated truncated_;
  size_t pos_ = 0;
};

}  // namespace cvae::core
