#include "support/tiny_data.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "io/idx.h"

#ifndef CVAE_CLI_PATH
#define CVAE_CLI_PATH "cvae"
#endif

namespace fs = std::filesystem;

namespace cvae::testing {
namespace {

// Uniform integer in [lo, hi] from a 64-bit engine, the same on every platform.
int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(rng() % span);
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for pid up to timeout_s, then SIGKILLs it. *timed_out tells which happened.
int wait_child(pid_t pid, int timeout_s, bool* timed_out) {
  *timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status_to_code(status);
    if (r < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *timed_out = true;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return status_to_code(status);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

// Starts exe with args, stdout and stderr on the given descriptors (which are
// closed here, in the parent), and with RLIMIT_FSIZE = max_file_bytes when that is >= 0.
pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd, int64_t max_file_bytes,
            const std::string& exe = cli_path()) {
  // Everything the child needs is prepared before fork: after it only
  // async-signal-safe calls are made.
  std::vector<std::string> argv_s;
  argv_s.push_back(exe);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
    const int saved = errno;
    for (int fd : {in_fd, out_fd, err_fd}) {
      if (fd >= 0) ::close(fd);
    }
    throw std::runtime_error(std::string("cannot open the standard streams of the child: ") +
                             std::strerror(saved));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int saved = errno;
    for (int fd : {in_fd, out_fd, err_fd}) ::close(fd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(saved));
  }
  if (pid == 0) {
    // Child. dup2 clears close-on-exec on the targets.
    if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
        ::dup2(err_fd, STDERR_FILENO) < 0) {
      ::_exit(126);
    }
    // Default dispositions and an empty mask, whatever the test runner set.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (max_file_bytes >= 0) {
      // A write past the limit fails with EFBIG instead of raising SIGXFSZ.
      ::signal(SIGXFSZ, SIG_IGN);
      struct rlimit lim {};
      lim.rlim_cur = static_cast<rlim_t>(max_file_bytes);
      lim.rlim_max = static_cast<rlim_t>(max_file_bytes);
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  for (int fd : {in_fd, out_fd, err_fd}) ::close(fd);
  return pid;
}

// Runs the child with stdout and stderr on pipes (not files, so that RLIMIT_FSIZE does
// not cut them), reading both until they close or the deadline passes.
RunResult run(const std::vector<std::string>& args, int timeout_s, int64_t max_file_bytes,
              const std::string& exe = cli_path()) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = -1;
  try {
    pid = spawn(args, out_pipe[1], err_pipe[1], max_file_bytes, exe);
  } catch (...) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw;
  }
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool killed = false;
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (!killed) ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  bool timed_out = false;
  r.code = wait_child(pid, killed ? 5 : std::max(1, timeout_s), &timed_out);
  if (killed || timed_out) {
    r.err += "\n[test harness: killed after " + std::to_string(timeout_s) + " s]\n";
  }
  return r;
}

}  // namespace

bool toy_pixel_lit(int64_t row, int64_t size, int classes, int k) {
  return row * classes / size == k;
}

void write_toy_idx(const std::string& dir, int64_t n_train, int64_t n_test, int64_t size,
                   int classes, uint64_t seed) {
  if (n_train < 1 || n_test < 1 || size < 1 || classes < 1 || classes > 256 || classes > size) {
    throw std::invalid_argument("write_toy_idx: bad sizes");
  }
  fs::create_directories(dir);
  std::mt19937_64 rng(seed);
  auto make = [&](int64_t n, const std::string& prefix) {
    io::IdxArray images, labels;
    images.dims = {n, size, size};
    labels.dims = {n};
    images.data.reserve(static_cast<size_t>(n * size * size));
    for (int64_t i = 0; i < n; ++i) {
      const int k = static_cast<int>(i % classes);
      labels.data.push_back(static_cast<uint8_t>(k));
      const int64_t bright = uniform(rng, 215, 250);  // per-image brightness of the band
      for (int64_t r = 0; r < size; ++r) {
        for (int64_t c = 0; c < size; ++c) {
          const int64_t v = toy_pixel_lit(r, size, classes, k) ? bright + uniform(rng, -15, 5)
                                                               : uniform(rng, 0, 40);
          images.data.push_back(static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255)));
        }
      }
    }
    io::write_idx((fs::path(dir) / (prefix + "-images-idx3-ubyte")).string(), images);
    io::write_idx((fs::path(dir) / (prefix + "-labels-idx1-ubyte")).string(), labels);
  };
  make(n_train, "train");
  make(n_test, "t10k");
}

ModelConfig toy_model_config(std::vector<int64_t> shape, int classes, std::vector<int64_t> hidden,
                             int64_t latent) {
  ModelConfig cfg;
  cfg.arch = "mlp";
  cfg.prior = "standard";
  cfg.input_shape = std::move(shape);
  ConditionSpec spec;
  for (int i = 0; i < classes; ++i) spec.labels.push_back(std::to_string(i));
  cfg.conditions = {spec};
  if (!hidden.empty()) cfg.hidden = std::move(hidden);
  if (latent > 0) cfg.latent = latent;
  return cfg;
}

TrainRequest toy_train_request(const std::string& data, const std::string& out, int64_t epochs) {
  TrainRequest r;
  r.data.path = data;
  r.out = out;
  r.model.arch = "mlp";
  r.model.prior = "standard";
  r.model.hidden = {32};
  r.model.latent = 2;
  r.train.kl_warmup = 0;
  r.train.gmm_components = 10;
  r.train.epochs = epochs;
  r.train.batch_size = 32;
  r.train.threads = 1;
  r.quiet = true;
  return r;
}

std::string toy_text_word(int label, int i) {
  return "w" + std::to_string(label) + static_cast<char>('a' + i);
}

const std::vector<std::string>& toy_text_shared_words() {
  static const std::vector<std::string> words = {"the", "and", "of"};
  return words;
}

std::string toy_text_label(int k) {
  static const std::vector<std::string> names = {"red",  "green", "blue",  "cyan",
                                                 "gold", "grey",  "olive", "pink"};
  return k < static_cast<int>(names.size()) ? names[static_cast<size_t>(k)]
                                            : "label" + std::to_string(k);
}

void write_toy_text(const std::string& path, int64_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string body;
  const auto& shared = toy_text_shared_words();
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i % classes);
    const int words = 3 + static_cast<int>(rng() % 5);
    std::string text;
    for (int w = 0; w < words; ++w) {
      if (w) text += " ";
      if (rng() % 4 == 0) {
        text += shared[rng() % shared.size()];
      } else {
        text += toy_text_word(k, static_cast<int>(rng() % kToyTextWords));
      }
    }
    body += toy_text_label(k) + "\t" + text + ".\n";
  }
  write_bytes(path, body);
}

TrainRequest toy_text_train_request(const std::string& data, const std::string& out,
                                    int64_t epochs) {
  TrainRequest r = toy_train_request(data, out, epochs);
  r.data.min_count = 1;
  r.model.arch = "auto";  // rnn for text
  r.model.prior = "learned";
  r.model.embedding = 16;
  r.model.latent = 4;
  r.train.gmm_components = 5;
  r.train.batch_size = 16;
  r.train.lr = 0.01;
  return r;
}

std::string describe(const RunResult& r) {
  return "exit code " + std::to_string(r.code) + "\n--- stdout ---\n" + r.out +
         "\n--- stderr ---\n" + r.err;
}

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string();
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string cli_path() { return CVAE_CLI_PATH; }
std::string torch_cli_path() { return CVAE_TORCH_CLI_PATH; }

RunResult run_program(const std::string& exe, const std::vector<std::string>& args, int timeout_s) {
  return run(args, timeout_s, -1, exe);
}

RunResult run_cli(const std::vector<std::string>& args, int timeout_s) {
  return run(args, timeout_s, -1);
}

RunResult run_cli_file_limit(const std::vector<std::string>& args, int64_t max_file_bytes,
                             int timeout_s) {
  return run(args, timeout_s, std::max<int64_t>(max_file_bytes, 0));
}

pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out_file,
                const std::string& err_file) {
  const int out_fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    const int saved = errno;
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    throw std::runtime_error("cannot create '" + out_file + "' or '" + err_file +
                             "': " + std::strerror(saved));
  }
  return spawn(args, out_fd, err_fd, -1);
}

int wait_cli(pid_t pid, int timeout_s) {
  bool timed_out = false;
  return wait_child(pid, timeout_s, &timed_out);
}

bool wait_for_file(const std::string& path, double timeout_s, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (file_exists(path)) return true;
    if (pid > 0) {
      siginfo_t info{};
      info.si_pid = 0;
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        return file_exists(path);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return file_exists(path);
}

}  // namespace cvae::testing
