// Shared by the CLI tests (tests/cli/test_cli_*.cpp): the cvae binary is run as a child
// process on tiny, class-separable IDX data (tests/support/tiny_data.h), and its exit codes,
// messages and output files are checked. Training is deterministic with --threads 1, which
// the resume tests rely on.
//
// Everything here is inline and in a named namespace, so the model behind shared() is
// trained once per test process however many files use it, and CliUserPath is one
// fixture class in every file its suite's tests are in.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/png.h"
#include "support/tiny_data.h"

namespace cli_test {

namespace fs = std::filesystem;
using cvae::testing::contains;
using cvae::testing::describe;
using cvae::testing::file_exists;
using cvae::testing::read_bytes;
using cvae::testing::RunResult;
using cvae::testing::TempDir;
using cvae::testing::write_bytes;
using Args = std::vector<std::string>;

inline constexpr int64_t kSize = 8;  // toy images are kSize x kSize
inline constexpr int kClasses = 3;   // toy labels 0, 1, 2
inline constexpr int64_t kPad = 2;   // padding of the PNG grids
inline constexpr int64_t kNTest = 90;

inline int64_t grid_extent(int64_t tiles) { return tiles * kSize + (tiles + 1) * kPad; }

// The options every training run here shares: a small, quick, deterministic model.
inline Args train_args(const std::string& data, const std::string& out, int epochs) {
  return {"train", "--data", data, "--out", out, "--epochs", std::to_string(epochs), "--hidden",
          "32", "--latent", "2", "--threads", "1", "--progress", "none", "--batch-size", "16",
          "--lr", "0.01",
          // The small MLP model the tests were written for (the defaults are the conv
          // model of docs/models.md, which CliVariants and the slow test train).
          "--arch", "mlp", "--prior", "standard", "--kl-warmup", "0", "--gmm-components", "10"};
}

// base with each "--option value" pair of overrides replacing that option's value in base,
// or appended when base does not have it.
inline Args with(Args base, const Args& overrides) {
  for (size_t i = 0; i + 1 < overrides.size(); i += 2) {
    auto it = std::find(base.begin(), base.end(), overrides[i]);
    if (it != base.end() && it + 1 != base.end()) {
      *(it + 1) = overrides[i + 1];
    } else {
      base.push_back(overrides[i]);
      base.push_back(overrides[i + 1]);
    }
  }
  return base;
}

inline Args operator+(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A failure of the CLI as the project's conventions want it: the expected exit code
// (never a crash), a message that starts with "error:" and names the problem.
inline ::testing::AssertionResult CleanError(const RunResult& r,
                                             const std::vector<std::string>& needles,
                                             int expected_code = 1) {
  if (r.code == 0) return ::testing::AssertionFailure() << "expected a failure\n" << describe(r);
  if (r.code >= 128) return ::testing::AssertionFailure() << "crashed\n" << describe(r);
  if (expected_code >= 0 && r.code != expected_code) {
    return ::testing::AssertionFailure() << "expected exit code " << expected_code << "\n"
                                         << describe(r);
  }
  if (r.err.rfind("error:", 0) != 0) {
    return ::testing::AssertionFailure() << "stderr does not start with 'error:'\n" << describe(r);
  }
  for (const auto& n : needles) {
    if (!contains(r.err, n)) {
      return ::testing::AssertionFailure() << "stderr does not mention '" << n << "'\n"
                                           << describe(r);
    }
  }
  return ::testing::AssertionSuccess();
}

// A command-line usage error reported by CLI11: its own non-zero code (not a crash) and a
// message on stderr that names the option.
inline ::testing::AssertionResult UsageError(const RunResult& r,
                                             const std::vector<std::string>& needles) {
  if (r.code == 0) return ::testing::AssertionFailure() << "expected a failure\n" << describe(r);
  if (r.code >= 128) return ::testing::AssertionFailure() << "crashed\n" << describe(r);
  for (const auto& n : needles) {
    if (!contains(r.err, n)) {
      return ::testing::AssertionFailure() << "stderr does not mention '" << n << "'\n"
                                           << describe(r);
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

inline std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// The pixels of tile (row, col) of a grid PNG of kSize x kSize gray tiles.
inline std::vector<int> tile(const cvae::io::Image& img, int64_t row, int64_t col) {
  std::vector<int> px;
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      const int64_t yy = kPad + row * (kSize + kPad) + y, xx = kPad + col * (kSize + kPad) + x;
      px.push_back(img.pixels[static_cast<size_t>((yy * img.width + xx) * img.channels)]);
    }
  }
  return px;
}

// The toy class whose band of rows is the brightest in an image: the label the image shows.
inline int brightest_band(const std::vector<int>& px) {
  std::vector<double> sum(kClasses, 0.0);
  std::vector<int> n(kClasses, 0);
  for (int64_t r = 0; r < kSize; ++r) {
    for (int k = 0; k < kClasses; ++k) {
      if (!cvae::testing::toy_pixel_lit(r, kSize, kClasses, k)) continue;
      for (int64_t c = 0; c < kSize; ++c) sum[k] += px[static_cast<size_t>(r * kSize + c)];
      n[k] += static_cast<int>(kSize);
    }
  }
  int best = 0;
  for (int k = 1; k < kClasses; ++k) {
    if (sum[k] / n[k] > sum[best] / n[best]) best = k;
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// One small model trained once per test process and shared by the tests that need one.
struct SharedModel {
  std::unique_ptr<TempDir> dir;
  std::string data, model;
  RunResult train;
  nlohmann::json info;  // info --json of the model, when training worked
  std::vector<std::string> labels;
};

inline const SharedModel& shared() {
  static SharedModel s = [] {
    SharedModel m;
    m.dir = std::make_unique<TempDir>("cvae-cli");
    m.data = m.dir->file("toy");
    m.model = m.dir->file("models/toy.cvae");  // the parent is created by train
    cvae::testing::write_toy_idx(m.data, 300, kNTest, kSize, kClasses, 1);
    m.train = cvae::testing::run_cli(train_args(m.data, m.model, 4));
    if (m.train.code == 0) {
      RunResult i = cvae::testing::run_cli({"info", "--model", m.model, "--json"});
      if (i.code == 0) {
        m.info = nlohmann::json::parse(i.out, nullptr, false);
        if (!m.info.is_discarded()) {
          try {
            m.labels = m.info.at("model")
                           .at("conditions")
                           .at(0)
                           .at("labels")
                           .get<std::vector<std::string>>();
          } catch (const nlohmann::json::exception&) {
          }
        }
      }
    }
    return m;
  }();
  return s;
}

#define REQUIRE_SHARED_MODEL()                                                         \
  do {                                                                                 \
    ASSERT_EQ(shared().train.code, 0) << "training the shared model failed\n"          \
                                      << describe(shared().train);                     \
    ASSERT_FALSE(shared().labels.empty()) << "info --json of the shared model has no " \
                                             "labels";                                 \
  } while (0)

class CliUserPath : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared(); }
  void SetUp() override {
    REQUIRE_SHARED_MODEL();
    work_ = std::make_unique<TempDir>("cvae-cli-out");
  }
  const std::string& model() const { return shared().model; }
  const std::string& data() const { return shared().data; }
  int64_t n_labels() const { return static_cast<int64_t>(shared().labels.size()); }
  std::string out(const std::string& name) const { return work_->file(name); }

  std::unique_ptr<TempDir> work_;
};

// ---------------------------------------------------------------------------------------
// Resume: a run split in two (or killed and resumed) ends with the same model as one run.
class CliResume : public ::testing::Test {
 protected:
  // Generates with a fixed seed from model and returns the IDX images bytes.
  static std::string fingerprint(const TempDir& dir, const std::string& model,
                                 const std::string& tag) {
    RunResult r = cvae::testing::run_cli({"generate", "--model", model, "--label", "0,1,2", "-n",
                                          "20", "--format", "idx", "--seed", "5", "--out",
                                          dir.file(tag), "--threads", "1"});
    EXPECT_EQ(r.code, 0) << describe(r);
    return read_bytes(dir.file(tag + "-images-idx3-ubyte"));
  }
  static nlohmann::json info(const std::string& model) {
    RunResult r = cvae::testing::run_cli({"info", "--model", model, "--json"});
    EXPECT_EQ(r.code, 0) << describe(r);
    return nlohmann::json::parse(r.out, nullptr, false);
  }
};

// ---------------------------------------------------------------------------------------
// Bad input: a clean error, and nothing written or overwritten.
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override { work_ = std::make_unique<TempDir>("cvae-cli-bad"); }
  std::string out(const std::string& name) const { return work_->file(name); }

  // Runs train with extra options and --out pointing at a copy of the shared model in a
  // fresh directory, and checks a clean error that names `needles`, and that the
  // directory is unchanged: the previous model byte-identical and no new files.
  void expect_train_error(const Args& args, const std::vector<std::string>& needles,
                          bool usage_error = false) {
    ASSERT_EQ(shared().train.code, 0) << describe(shared().train);
    TempDir dir("cvae-cli-bad-train");
    const std::string prev = dir.file("prev.cvae");
    const std::string bytes = read_bytes(shared().model);
    write_bytes(prev, bytes);
    RunResult r = cvae::testing::run_cli(args + Args{"--out", prev});
    if (usage_error) {
      EXPECT_TRUE(UsageError(r, needles));
    } else {
      EXPECT_TRUE(CleanError(r, needles));
    }
    EXPECT_TRUE(read_bytes(prev) == bytes) << "the previous model file was changed";
    EXPECT_EQ(join(list_dir(dir.path())), "prev.cvae");
  }

  Args small_train(const std::string& data) const {
    return {"train", "--data",    data, "--hidden",   "32",  "--latent",
            "2",     "--threads", "1",  "--progress", "none"};
  }

  std::unique_ptr<TempDir> work_;
};

}  // namespace cli_test
