// modalities/items/items.cpp and items_data.cpp: the item-set modality end to
// end through the library on the planted fixture (tests/support/item_fixtures.h):
// reading, training with the modality's defaults, ranking evaluation against the
// baselines, and recommend for a user the model never saw.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/atomic_file.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "modalities/items/lite/catalogue.h"
#include "modalities/modality.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/item_fixtures.h"
#include "support/lite/temp_dir.h"
#include "support/tiny_data.h"

namespace cvae::modalities::items {
namespace {

using testing::item_genre;
using testing::item_movie_id;
using testing::kItemGenres;

class Items : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>("cvae-items");
    testing::write_item_folder(dir_->path());
    TrainRequest req;
    req.data.path = dir_->path();
    req.data.heldout_users = 6;
    req.out = dir_->file("m.cvae");
    req.model.hidden = {32};
    req.model.latent = 8;
    req.train.epochs = 60;
    req.train.batch_size = 32;
    req.train.lr = 3e-3;
    req.train.threads = 1;
    req.quiet = true;
    // The rest (prior, beta, warm-up, mixture) are the modality's defaults.
    req.given =
        std::vector<std::string>{"hidden", "latent", "epochs", "batch-size", "lr", "threads"};
    train(req);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::string model() { return dir_->file("m.cvae"); }
  static DataConfig data() {
    DataConfig d;
    d.path = dir_->path();
    d.heldout_users = 6;
    return d;
  }
  // The genre (0..2) of the movie with this id.
  static int64_t genre_of(int64_t id) { return item_genre(id / 10 - 1); }
  static std::unique_ptr<testing::TempDir> dir_;
};
std::unique_ptr<testing::TempDir> Items::dir_;

TEST_F(Items, ReadsRowsPerUserAndGenreAndIsClaimedByItsFolder) {
  EXPECT_EQ(modality_for_data(data()).modality(), kName);
  testing::TempDir empty("cvae-items-empty");
  DataConfig other;
  other.path = empty.path();
  EXPECT_EQ(modality_for_data(other).modality(), "image");  // any other folder
  const data::Dataset d = load_dataset(data(), "train");
  ASSERT_EQ(d.conditions.size(), 1u);
  EXPECT_EQ(d.conditions[0].labels,
            (std::vector<std::string>{"any", "Action", "Comedy", "Drama", "Romance"}));
  // 60 users, 12 held out: 48 training users, each 7 positives (4.0 or 5.0) and
  // 3 ratings below 3.5; each once under "any" and once per genre of their items.
  const auto any_rows = (d.y.select(1, 0) == 0).sum().item<int64_t>();
  EXPECT_EQ(any_rows, 48);
  EXPECT_TRUE((d.x.sum(1) == 7).all().item<bool>());
  EXPECT_GT(d.size(), 2 * any_rows);
  EXPECT_EQ(std::get<0>(torch::_unique(d.ids)).numel(), 48);
  // Genre rows only for genres the user has items of.
  const Catalogue cat = parse_catalogue(d.vocabulary, "data");
  for (int64_t i = 0; i < d.size(); ++i) {
    const int64_t label = d.y[i][0].item<int64_t>();
    if (label == 0) continue;
    bool has = false;
    for (int64_t col = 0; col < cat.size(); ++col) {
      if (d.x[i][col].item<float>() == 0) continue;
      const auto& g = cat.genres[static_cast<size_t>(col)];
      has |= std::find(g.begin(), g.end(), d.conditions[0].labels[static_cast<size_t>(label)]) !=
             g.end();
    }
    EXPECT_TRUE(has) << "row " << i;
  }
}

TEST_F(Items, TrainsWithItsDefaultsAndBeatsPopularityOnTheHeldOutUsers) {
  const models::ModelFile f = models::load_model_file(model());
  EXPECT_EQ(f.model.arch, "multvae");
  EXPECT_EQ(f.model.likelihood, "multinomial");
  EXPECT_EQ(f.model.prior, "standard");  // the modality's default, not the library's
  EXPECT_DOUBLE_EQ(f.train.beta, 0.2);
  EXPECT_EQ(f.model.hidden, (std::vector<int64_t>{32}));  // given
  EXPECT_EQ(f.train.gmm_components, 0);
  EvalRequest req;
  req.model = model();
  req.data = data();
  req.baselines = true;
  req.threads = 1;
  const EvalResult r = evaluate(req);
  std::map<std::string, double> fig(r.figures.begin(), r.figures.end());
  for (const char* k :
       {"ndcg_100", "recall_20", "recall_50", "genre_ndcg_100", "genre_precision_20",
        "popularity.ndcg_100", "ease.ndcg_100", "ease.lambda", "any_in_genre.genre_ndcg_100"})
    ASSERT_TRUE(fig.count(k)) << k;
  EXPECT_EQ(fig["users"], 6);
  // Each user likes one genre: popularity ranks the 30 movies about evenly; a
  // model that reads the user's genre from the fold-in puts its movies first.
  EXPECT_GT(fig["ndcg_100"], fig["popularity.ndcg_100"] + 0.1) << r.figures.size();
  EXPECT_GT(fig["ease.ndcg_100"], fig["popularity.ndcg_100"] + 0.1);
  for (const auto& [k, v] : r.figures) EXPECT_TRUE(std::isfinite(v)) << k;
  EXPECT_LE(fig["ndcg_100"], 1.0);
}

TEST_F(Items, WithoutGivenOptionsEveryValueIsTheCallers) {
  testing::TempDir tmp("cvae-items-given");
  TrainRequest req;
  req.data = data();
  req.out = tmp.file("m.cvae");
  req.model.hidden = {16};
  req.model.latent = 4;
  req.train.epochs = 2;
  req.train.threads = 1;
  req.quiet = true;  // req.given unset: no modality defaults
  train(req);
  const models::ModelFile f = models::load_model_file(req.out);
  EXPECT_EQ(f.model.prior, "learned");  // the library's default, kept
  EXPECT_DOUBLE_EQ(f.train.beta, TrainConfig{}.beta);
  EXPECT_EQ(f.train.batch_size, TrainConfig{}.batch_size);
}

TEST_F(Items, RecommendsForAnUnseenUserNeverFromTheHistory) {
  testing::TempDir tmp("cvae-items-rec");
  // User 999 (not in the data) likes comedies (genre 1: movies 1, 4, 7, ...);
  // movie 99999 is unknown to the model.
  std::string history = "rating,movieId,userId\n";
  std::set<int64_t> seen;
  for (int64_t m : {1, 4, 7, 10}) {
    history += "5.0," + std::to_string(item_movie_id(m)) + ",999\n";
    seen.insert(item_movie_id(m));
  }
  history += "4.0,99999,999\n";
  // A comedy rated low: not read as liked, and never recommended either.
  history += "1.0," + std::to_string(item_movie_id(13)) + ",999\n";
  seen.insert(item_movie_id(13));
  const std::string hist = tmp.file("h.csv");
  core::write_file_atomic(hist, history);
  RecommendRequest req;
  req.model = model();
  req.history = hist;
  req.top = 5;
  req.out = tmp.file("recs/r.tsv");
  req.threads = 1;
  const RecommendResult r = recommend(req);
  EXPECT_EQ(r.users, 1);
  EXPECT_EQ(r.history_items, 6);
  EXPECT_EQ(r.unknown_items, 1);
  ASSERT_EQ(r.rows.size(), 5u);
  int comedies = 0;
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_EQ(r.rows[i].user, 999);
    EXPECT_EQ(r.rows[i].rank, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(seen.count(r.rows[i].item), 0u) << r.rows[i].item;
    if (i > 0) {
      EXPECT_LE(r.rows[i].score, r.rows[i - 1].score);
    }
    comedies += genre_of(r.rows[i].item) == 1;
  }
  // 5 comedies are left of 25 unseen movies: chance would give about 1 of 5.
  EXPECT_GE(comedies, 3) << r.tsv;
  EXPECT_EQ(r.files, std::vector<std::string>{req.out});
  EXPECT_EQ(testing::read_bytes(req.out), r.tsv);
  // --label genre=Action: only action movies, still never the history.
  req.label = "genre=Action";
  req.out.clear();
  const RecommendResult a = recommend(req);
  ASSERT_FALSE(a.rows.empty());
  for (const auto& row : a.rows) {
    EXPECT_EQ(genre_of(row.item), 0) << row.item << " " << row.title;
    EXPECT_EQ(seen.count(row.item), 0u);
  }
  // An unknown genre lists the known ones.
  req.label = "genre=Horror";
  const std::string msg = testing::error_of<ConfigError>([&] { recommend(req); });
  EXPECT_NE(msg.find("Horror"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Comedy"), std::string::npos) << msg;
}

TEST_F(Items, OtherModelsDoNotRecommendAndBadHistoriesAreNamed) {
  testing::TempDir tmp("cvae-items-bad");
  const std::string hist = tmp.file("h.csv");
  core::write_file_atomic(hist, "userId,title\n1,x\n");
  RecommendRequest req;
  req.model = model();
  req.history = hist;
  const std::string msg = testing::error_of([&] { recommend(req); });
  EXPECT_NE(msg.find("movieId"), std::string::npos) << msg;
  req.top = 0;
  EXPECT_THROW(recommend(req), ConfigError);
}

}  // namespace
}  // namespace cvae::modalities::items
