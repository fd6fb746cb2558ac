// The item-set user path through the cvae binary on the planted fixture
// (tests/support/item_fixtures.h): train with the modality's defaults, eval
// with the baselines, recommend to stdout and --out, with --label, and the
// errors a user meets.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_fixtures.h"
#include "core/atomic_file.h"
#include "support/item_fixtures.h"

namespace cli_test {
namespace {

class CliItems : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("cvae-cli-items");
    cvae::testing::write_item_folder(dir_->file("ml"));
    train_ = cvae::testing::run_cli({"train",
                                     "--data",
                                     dir_->file("ml"),
                                     "--out",
                                     model(),
                                     "--hidden",
                                     "32",
                                     "--latent",
                                     "8",
                                     "--epochs",
                                     "40",
                                     "--batch-size",
                                     "32",
                                     "--lr",
                                     "0.003",
                                     "--heldout-users",
                                     "6",
                                     "--threads",
                                     "1",
                                     "--progress",
                                     "none"});
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string model() { return dir_->file("m.cvae"); }
  static std::string data() { return dir_->file("ml"); }
  static inline TempDir* dir_ = nullptr;
  static inline RunResult train_;
};

std::vector<std::vector<std::string>> tsv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) f.push_back(cell);
    rows.push_back(f);
  }
  return rows;
}

TEST_F(CliItems, TrainsEvaluatesAndRecommends) {
  ASSERT_EQ(train_.code, 0) << describe(train_);
  RunResult r =
      cvae::testing::run_cli({"eval", "--model", model(), "--data", data(), "--heldout-users", "6",
                              "--baselines", "--json", dir_->file("e.json"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "ndcg_100")) << r.out;
  auto j = nlohmann::json::parse(read_bytes(dir_->file("e.json")));
  for (const char* k :
       {"ndcg_100", "recall_20", "genre_precision_20", "ease.ndcg_100", "popularity.ndcg_100"})
    ASSERT_TRUE(j.contains(k) && j.at(k).is_number()) << k << " in " << j.dump();
  // Another split of the same data is not the one the model was trained on.
  r = cvae::testing::run_cli(
      {"eval", "--model", model(), "--data", data(), "--heldout-users", "7", "--threads", "1"});
  EXPECT_TRUE(CleanError(r, {"--split-seed 1 --heldout-users 6"}));

  // Two users, rows interleaved, one unknown movie, a rating column.
  const std::string hist = dir_->file("users.csv");
  cvae::core::write_file_atomic(
      hist, "userId,movieId,rating\n5,20,4\n8,10,5\n5,50,5\n8,40,4\n5,77777,3\n");
  r = cvae::testing::run_cli({"recommend", "--model", model(), "--history", hist, "--top", "3",
                              "--out", dir_->file("recs.tsv"), "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_TRUE(contains(r.err, "1 of the 5 history rows")) << r.err;
  EXPECT_EQ(read_bytes(dir_->file("recs.tsv")), r.out);
  const auto rows = tsv_rows(r.out);
  ASSERT_EQ(rows.size(), 6u) << r.out;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 5u) << r.out;
    EXPECT_EQ(rows[i][0], i < 3 ? "5" : "8");
    EXPECT_EQ(rows[i][1], std::to_string(i % 3 + 1));
    const std::string& item = rows[i][2];
    EXPECT_TRUE(i < 3 ? item != "20" && item != "50" : item != "10" && item != "40") << r.out;
    EXPECT_TRUE(contains(rows[i][4], "Movie ")) << rows[i][4];
  }
  // --label genre=Drama: movies 30, 60, 90, ... (every third).
  r = cvae::testing::run_cli({"recommend", "--model", model(), "--history", hist, "--top", "4",
                              "--label", "genre=Drama", "--threads", "1"});
  ASSERT_EQ(r.code, 0) << describe(r);
  for (const auto& row : tsv_rows(r.out)) EXPECT_EQ(std::stoi(row.at(2)) % 30, 0) << r.out;
  r = cvae::testing::run_cli(
      {"recommend", "--model", model(), "--history", hist, "--label", "genre=Horror"});
  EXPECT_TRUE(CleanError(r, {"Horror", "Comedy", "Drama"}));
  r = cvae::testing::run_cli(
      {"recommend", "--model", model(), "--history", dir_->file("missing.csv")});
  EXPECT_TRUE(CleanError(r, {"missing.csv"}));
  r = cvae::testing::run_cli({"recommend", "--model", model(), "--history", hist, "--top", "0"});
  EXPECT_TRUE(CleanError(r, {"--top"}));
}

TEST_F(CliUserPath, RecommendNeedsAnItemSetModel) {
  const std::string hist = out("h.csv");
  cvae::core::write_file_atomic(hist, "userId,movieId\n1,2\n");
  RunResult r = cvae::testing::run_cli({"recommend", "--model", model(), "--history", hist});
  EXPECT_TRUE(CleanError(r, {"item-set models"}));
}

}  // namespace
}  // namespace cli_test
