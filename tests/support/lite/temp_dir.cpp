#include "support/lite/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace cvae::testing {
namespace {

std::string sanitize(const std::string& tag) {
  std::string s;
  for (char ch : tag) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    s.push_back(ok ? ch : '_');
  }
  return s.empty() ? std::string("t") : s;
}

}  // namespace

std::string make_temp_dir(const std::string& tag) {
  static std::atomic<uint64_t> counter{0};
  const fs::path base = fs::temp_directory_path();
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path p = base / (sanitize(tag) + "-" + std::to_string(::getpid()) + "-" +
                               std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rd()));
    if (::mkdir(p.c_str(), 0755) == 0) return p.string();
    if (errno != EEXIST) {
      throw std::runtime_error("cannot create temporary directory '" + p.string() +
                               "': " + std::strerror(errno));
    }
  }
  throw std::runtime_error("cannot create a unique temporary directory for " + tag);
}

TempDir::TempDir(const std::string& tag) : path_(make_temp_dir(tag)) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

}  // namespace cvae::testing
