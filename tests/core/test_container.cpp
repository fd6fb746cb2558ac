// The model file container: round trip, and every kind of damage is a clear
// CheckpointError rather than a crash or a silent wrong answer.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/container.h"
#include "cvae/errors.h"

namespace cvae::core {
namespace {

Container sample_container() {
  Container c;
  c.header = {{"program", "cvae"}, {"n", 3}};
  c.blobs["weights"] = std::string("\x00\x01\x02\xff", 4);
  c.blobs["resume/optimizer"] = std::string(1000, 'x');
  return c;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_container(bytes, "m.cvae");
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "";
}

TEST(Container, RoundTrip) {
  auto bytes = serialize_container(sample_container());
  auto c = parse_container(bytes, "m.cvae");
  EXPECT_EQ(c.header["n"], 3);
  EXPECT_EQ(c.blobs.size(), 2u);
  EXPECT_EQ(c.blobs["weights"], std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(c.blobs["resume/optimizer"], std::string(1000, 'x'));
}

TEST(Container, EveryTruncationIsAClearError) {
  auto bytes = serialize_container(sample_container());
  for (size_t len = 0; len < bytes.size(); ++len) {
    const std::string msg = error_of(bytes.substr(0, len));
    ASSERT_FALSE(msg.empty()) << "truncated to " << len << " bytes was accepted";
    if (len >= 8) {
      EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                  msg.find("corrupt") != std::string::npos)
          << len << ": " << msg;
    }
  }
}

TEST(Container, EveryFlippedByteIsDetected) {
  auto bytes = serialize_container(sample_container());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    EXPECT_FALSE(error_of(bad).empty()) << "flip at byte " << i << " was accepted";
  }
}

TEST(Container, ForeignFilesAndNewerVersionsAreNamed) {
  EXPECT_NE(error_of("\x89PNG\r\n\x1a\nrest").find("not a cvae model file"), std::string::npos);
  EXPECT_NE(error_of("PK\x03\x04 a torch zip").find("not a cvae model file"), std::string::npos);
  auto bytes = serialize_container(sample_container());
  bytes[8] = 9;  // version 9
  EXPECT_NE(error_of(bytes).find("format version 9"), std::string::npos) << error_of(bytes);
  const auto good = serialize_container(sample_container());
  EXPECT_NE(error_of(good + "x").find("trailing"), std::string::npos) << error_of(good + "x");
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

}  // namespace
}  // namespace cvae::core
