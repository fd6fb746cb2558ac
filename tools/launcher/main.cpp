// cvae: the command-line entry point. `cvae generate` for an MLP image model
// sampled from its prior without reranking runs here without libtorch
// (lite/cli.h), in a few milliseconds; everything else runs in cvae-torch, the
// full program beside this one (the same command line, by exec).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lite/cli.h"

namespace {

// The directory of this executable.
std::string own_dir() {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return ".";
  std::string path(buf.data(), static_cast<size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

int main(int argc, char** argv) {
  if (auto status = cvae::lite::try_generate(argc, argv)) return *status;
  const std::string full = own_dir() + "/cvae-torch";
  std::vector<char*> args(argv, argv + argc);
  args.push_back(nullptr);
  ::execv(full.c_str(), args.data());
  fmt::print(stderr, "error: cannot run '{}' ({}); it belongs beside '{}'\n", full,
             std::strerror(errno), argc > 0 ? argv[0] : "cvae");
  return 127;
}
