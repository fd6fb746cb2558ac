// Atomic file output and whole-file reads (src/core/atomic_file.cpp): a write
// leaves the new file or the old one, never a half-written one, and no
// temporary; every failure names the path.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "cvae/errors.h"
#include "support/expect_error.h"
#include "support/lite/temp_dir.h"

namespace cvae::core {
namespace {

namespace fs = std::filesystem;

// The names in dir that look like write_file_atomic's temporaries (PATH.tmp.PID).
std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) out.push_back(name);
  }
  return out;
}

// Runs f with the working directory set to dir, then restores it.
template <class F>
void in_directory(const std::string& dir, F&& f) {
  const fs::path old = fs::current_path();
  fs::current_path(dir);
  try {
    f();
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
}

TEST(AtomicFile, WritesAndReplacesWholeContent) {
  testing::TempDir dir("cvae-atomic");
  const std::string path = dir.file("out.bin");
  const std::string bytes("a\0b\xff\n\r", 6);  // NUL, high byte and line ends unchanged
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(fs::file_size(path), 6u);
  // A shorter content replaces the longer one entirely (no tail of the old file).
  write_file_atomic(path, std::string("xy"));
  EXPECT_EQ(read_file(path), "xy");
  write_file_atomic(path, std::string());
  EXPECT_EQ(read_file(path), "");
  EXPECT_TRUE(temporaries(dir.path()).empty());
}

TEST(AtomicFile, StreamOverloadWritesWhatFillWrote) {
  testing::TempDir dir("cvae-atomic");
  const std::string path = dir.file("s.txt");
  write_file_atomic(path, [](std::ostream& out) {
    out << "line " << 1 << "\n";
    out.write("\0\x01", 2);
  });
  EXPECT_EQ(read_file(path), std::string("line 1\n\0\x01", 9));
  EXPECT_TRUE(temporaries(dir.path()).empty());
}

TEST(AtomicFile, ThrowingFillLeavesThePreviousFile) {
  testing::TempDir dir("cvae-atomic");
  const std::string path = dir.file("s.txt");
  write_file_atomic(path, std::string("old"));
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& out) {
                                   out << "half of the new";
                                   throw std::runtime_error("fill failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_file(path), "old");
  EXPECT_TRUE(temporaries(dir.path()).empty());
  // And where there was no file, there still is none.
  const std::string fresh = dir.file("fresh.txt");
  EXPECT_THROW(write_file_atomic(fresh, [](std::ostream&) { throw std::runtime_error("no"); }),
               std::runtime_error);
  EXPECT_FALSE(path_exists(fresh));
}

TEST(AtomicFile, PathWithoutDirectoryWritesInTheWorkingDirectory) {
  testing::TempDir dir("cvae-atomic");
  in_directory(dir.path(), [] { write_file_atomic("plain.txt", std::string("here")); });
  EXPECT_EQ(read_file(dir.file("plain.txt")), "here");
  EXPECT_TRUE(temporaries(dir.path()).empty());
}

TEST(AtomicFile, ErrorsNameThePathAndTheReason) {
  testing::TempDir dir("cvae-atomic");
  const std::string nowhere = dir.file("no/such/dir/m.cvae");
  const std::string msg =
      testing::error_of<IoError>([&] { write_file_atomic(nowhere, std::string("x")); });
  EXPECT_CONTAINS(msg, nowhere);
  EXPECT_CONTAINS(msg, "No such file or directory");
  // A directory where the file should go: the rename fails, naming both paths.
  const std::string blocked = dir.file("sub");
  fs::create_directories(blocked + "/inner");
  const std::string rename_msg =
      testing::error_of<IoError>([&] { write_file_atomic(blocked, std::string("x")); });
  EXPECT_CONTAINS(rename_msg, "cannot rename");
  EXPECT_CONTAINS(rename_msg, "'" + blocked + "'");
  EXPECT_TRUE(fs::is_directory(blocked + "/inner"));
  EXPECT_TRUE(temporaries(dir.path()).empty());
}

TEST(AtomicFile, FailedWriteLeavesPreviousFileAndNoTemporary) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("cvae_atomic_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string target = (dir / "m.cvae").string();
  write_file_atomic(target, std::string("old"));
  // A directory in the place of the rename target: the write succeeds, the rename fails.
  const std::string blocked = (dir / "sub").string();
  fs::create_directories(blocked + "/inner");
  EXPECT_THROW(write_file_atomic(blocked, std::string("new")), IoError);
  // A missing directory: cannot even create the temporary file.
  EXPECT_THROW(write_file_atomic((dir / "no/such/dir/m.cvae").string(), std::string("new")),
               IoError);
  // A full disk, simulated with a file-size limit (writes past it fail with EFBIG).
  {
    struct rlimit old_limit {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old_limit;
    small.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    try {
      write_file_atomic(target, std::string(1 << 16, 'x'));
      ADD_FAILURE() << "a write past the file-size limit succeeded";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find("previous file is untouched"), std::string::npos)
          << e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    std::signal(SIGXFSZ, old_handler);
  }
  EXPECT_EQ(read_file(target), "old");
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
  fs::remove_all(dir);
}

TEST(CreateParentDirs, CreatesEveryMissingLevelButNotTheFile) {
  testing::TempDir dir("cvae-atomic");
  const std::string path = dir.file("a/b/c/m.cvae");
  create_parent_dirs(path);
  EXPECT_TRUE(fs::is_directory(dir.file("a/b/c")));
  EXPECT_FALSE(path_exists(path));
  create_parent_dirs(path);  // existing directories are fine
  write_file_atomic(path, std::string("ok"));
  EXPECT_EQ(read_file(path), "ok");
}

TEST(CreateParentDirs, NoDirectoryPartIsANoOp) {
  testing::TempDir dir("cvae-atomic");
  in_directory(dir.path(), [] {
    create_parent_dirs("m.cvae");
    create_parent_dirs("/m.cvae");  // the root: nothing to create
  });
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CreateParentDirs, AFileInTheWayIsAnIoErrorNamingTheDirectory) {
  testing::TempDir dir("cvae-atomic");
  write_file_atomic(dir.file("f"), std::string("a file"));
  const std::string msg =
      testing::error_of<IoError>([&] { create_parent_dirs(dir.file("f/sub/m.cvae")); });
  EXPECT_CONTAINS(msg, "cannot create directory '" + dir.file("f/sub") + "'");
  EXPECT_EQ(read_file(dir.file("f")), "a file");
}

TEST(ReadFile, MissingFileAndDirectoryAreDataErrorsNamingThePath) {
  testing::TempDir dir("cvae-atomic");
  const std::string missing = dir.file("missing.bin");
  std::string msg = testing::error_of<DataError>([&] { read_file(missing); });
  EXPECT_CONTAINS(msg, "cannot open '" + missing + "'");
  EXPECT_CONTAINS(msg, "No such file or directory");
  msg = testing::error_of<DataError>([&] { read_file(dir.path()); });
  EXPECT_CONTAINS(msg, "'" + dir.path() + "' is a directory (expected a file)");
}

TEST(ReadFile, ReadsBytesWrittenByOthers) {
  testing::TempDir dir("cvae-atomic");
  std::string big(3 << 20, '\0');  // larger than any stream buffer
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  {
    std::ofstream out(dir.file("big"), std::ios::binary);
    out.write(big.data(), static_cast<std::streamsize>(big.size()));
  }
  EXPECT_EQ(read_file(dir.file("big")), big);
  { std::ofstream(dir.file("empty"), std::ios::binary); }
  EXPECT_EQ(read_file(dir.file("empty")), "");
}

TEST(PathExists, FilesAndDirectoriesButNotMissingPaths) {
  testing::TempDir dir("cvae-atomic");
  EXPECT_TRUE(path_exists(dir.path()));
  EXPECT_FALSE(path_exists(dir.file("x")));
  write_file_atomic(dir.file("x"), std::string());
  EXPECT_TRUE(path_exists(dir.file("x")));
  EXPECT_FALSE(path_exists(dir.file("x/y")));  // under a file
  EXPECT_FALSE(path_exists(""));
}

}  // namespace
}  // namespace cvae::core
