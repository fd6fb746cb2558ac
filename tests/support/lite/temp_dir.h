// Test support without torch: unique temporary directories. tests/support/tiny_data.h
// includes it, and the torch-free test binary (cvae_lite_tests) uses it alone.
#pragma once

#include <string>

namespace cvae::testing {

// Creates a new, unique, empty directory under std::filesystem::temp_directory_path()
// whose name contains tag, and returns its path.
std::string make_temp_dir(const std::string& tag);

// A unique temporary directory, removed with everything in it when this goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "cvae-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace cvae::testing
