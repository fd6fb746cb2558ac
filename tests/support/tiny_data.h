// Test support: temporary directories, a tiny class-separable image set in the IDX
// layout the cvae CLI reads, and running the cvae binary as a child process.
// No torch here (cvae/api.h is torch-free), so any test can include it cheaply.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cvae/api.h"
#include "support/lite/temp_dir.h"  // make_temp_dir, TempDir

namespace cvae::testing {

// The pixel pattern of class k in a size x size image: the rows r with
// r * classes / size == k (one horizontal band per class) are lit.
bool toy_pixel_lit(int64_t row, int64_t size, int classes, int k);

// Writes a toy, class-separable image set in the IDX layout of MNIST:
//   dir/train-images-idx3-ubyte, dir/train-labels-idx1-ubyte  (n_train examples)
//   dir/t10k-images-idx3-ubyte,  dir/t10k-labels-idx1-ubyte   (n_test examples)
// Images are size x size uint8. Example i has label i % classes; class k lights the
// horizontal band of toy_pixel_lit (values about 200..255) over a dark background
// (about 0..40), with per-image brightness and per-pixel noise drawn from seed.
// Creates dir when needed. No labels.txt is written.
void write_toy_idx(const std::string& dir, int64_t n_train, int64_t n_test, int64_t size = 8,
                   int classes = 3, uint64_t seed = 1);

// A model config for unit tests: the MLP backbone with the standard prior,
// one condition "label" with labels "0".."classes-1", the given shape, and
// the library's default hidden widths and latent size unless given.
ModelConfig toy_model_config(std::vector<int64_t> shape, int classes,
                             std::vector<int64_t> hidden = {}, int64_t latent = 0);

// A quick, deterministic training request for toy data: the small MLP model
// (hidden 32, latent 2, standard prior), no KL warm-up, a 10-component
// mixture, batch 32, 1 thread, quiet. Tests override what they vary.
TrainRequest toy_train_request(const std::string& data, const std::string& out, int64_t epochs);

// Words of the toy text corpus: label k's own words (kToyTextWords per label), and
// the words every label shares.
inline constexpr int kToyTextWords = 6;
std::string toy_text_word(int label, int i);  // e.g. "w1c" (label 1, word 2)
const std::vector<std::string>& toy_text_shared_words();
// The label names of the toy corpus: "red", "green", "blue", ... (classes of them).
std::string toy_text_label(int k);

// Writes a toy labelled-text TSV file (label<TAB>text per line): example i has label
// i % classes and 3..7 words, each drawn from that label's own words (toy_text_word)
// or, one time in four, from the shared words, followed by "." (seeded).
void write_toy_text(const std::string& path, int64_t n, int classes = 3, uint64_t seed = 1);

// A quick text training request on a toy corpus: toy_train_request with the rnn
// backbone (GRU 32), learned prior, embedding 16, latent 4, min count 1, a
// 5-component mixture, batch 16 and lr 0.01.
TrainRequest toy_text_train_request(const std::string& data, const std::string& out,
                                    int64_t epochs);

// The whole content of a file ("" and no error when it does not exist).
std::string read_bytes(const std::string& path);
// Writes bytes to path (truncating); throws std::runtime_error on failure.
void write_bytes(const std::string& path, const std::string& bytes);
bool file_exists(const std::string& path);

// The cvae binary under test (CVAE_CLI_PATH: the launcher), and the full
// program it hands most commands to (CVAE_TORCH_CLI_PATH: cvae-torch).
std::string cli_path();
std::string torch_cli_path();

struct RunResult {
  int code = -1;  // exit status, or 128 + signal when the process was killed by a signal
  std::string out, err;
};

// "exit code N", then the child's stdout and stderr: for test failure messages.
std::string describe(const RunResult& r);
// Whether needle occurs in s.
bool contains(const std::string& s, const std::string& needle);

// Runs the cvae binary with args (no shell) and waits for it, capturing stdout and
// stderr separately. stdin is /dev/null. After timeout_s seconds the child is
// SIGKILLed (code 137) and err ends with a line saying so.
RunResult run_cli(const std::vector<std::string>& args, int timeout_s = 300);
// The same for another executable.
RunResult run_program(const std::string& exe, const std::vector<std::string>& args,
                      int timeout_s = 300);

// As run_cli, with the child's RLIMIT_FSIZE set to max_file_bytes and SIGXFSZ ignored,
// so that any write past that size fails with EFBIG, as on a full disk.
RunResult run_cli_file_limit(const std::vector<std::string>& args, int64_t max_file_bytes,
                             int timeout_s = 300);

// Starts the cvae binary with args, stdout to out_file and stderr to err_file
// (created or truncated), and returns its pid at once. Throws on failure.
pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out_file,
                const std::string& err_file);

// Waits for a child started by spawn_cli: its exit status, or 128 + signal when it was
// killed by a signal. After timeout_s seconds the child is SIGKILLed (137).
int wait_cli(pid_t pid, int timeout_s = 300);

// Polls every few milliseconds until path exists (true) or timeout_s passes or the
// child pid (when > 0) has exited (false). Does not reap the child.
bool wait_for_file(const std::string& path, double timeout_s, pid_t pid = -1);

}  // namespace cvae::testing
