// modalities/text/text.cpp: the text modality end to end on a toy corpus where
// each label has its own words: targeted samples, transfer, save/load, eval's
// perplexity and fidelity, and resume.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "cvae/api.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "modalities/text/rnn.h"
#include "models/backbone.h"
#include "models/model_file.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using cvae::testing::TempDir;

// The toy corpus: each label has its own words. After a short training, texts
// generated for label k use label k's words, and the model reads a text's label.
class ToyCorpus : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("cvae-text");
    cvae::testing::write_toy_text(dir_->file("train.tsv"), 240, 3, 1);
    cvae::testing::write_toy_text(dir_->file("test.tsv"), 60, 3, 2);
    auto req =
        cvae::testing::toy_text_train_request(dir_->file("train.tsv"), dir_->file("toy.cvae"), 25);
    cvae::train(req);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
};

TempDir* ToyCorpus::dir_ = nullptr;

// Share of the label-specific words in texts that belong to label k.
double own_word_share(const std::vector<std::string>& texts, int k) {
  int own = 0, other = 0;
  for (const auto& t : texts) {
    std::istringstream in(t);
    std::string w;
    while (in >> w) {
      if (!w.empty() && w.back() == '.') w.pop_back();
      if (w.size() != 3 || w[0] != 'w') continue;  // shared words and punctuation
      (w[1] - '0' == k ? own : other)++;
    }
  }
  return own + other ? double(own) / double(own + other) : 0.0;
}

TEST_F(ToyCorpus, SamplesForEachLabelUseThatLabelsWords) {
  for (const std::string method : {"greedy", "sample", "beam"}) {
    cvae::GenerateRequest g;
    g.model = dir_->file("toy.cvae");
    g.n = 20;
    g.threads = 1;
    g.decoding.method = method;
    auto res = cvae::generate(g);
    ASSERT_EQ(res.texts.size(), 60u);
    // The model's labels are sorted by name; the toy's label k is named toy_text_label(k).
    ASSERT_EQ(res.labels, (std::vector<std::string>{"blue", "green", "red"}));
    for (int i = 0; i < 3; ++i) {
      const int k = 2 - i;
      std::vector<std::string> texts(res.texts.begin() + 20 * i, res.texts.begin() + 20 * (i + 1));
      EXPECT_EQ(res.text_labels[static_cast<size_t>(20 * i)], cvae::testing::toy_text_label(k));
      EXPECT_GE(own_word_share(texts, k), 0.95) << method << " label " << k << ": " << texts[0];
    }
  }
}

TEST_F(ToyCorpus, TransferUsesTheTargetLabelsWordsAndInfersTheSource) {
  cvae::TransferRequest t;
  t.model = dir_->file("toy.cvae");
  t.texts = {"w0a w0b the w0c w0d.", "w2e w2a w2b and w2c."};
  t.to_labels = {"green"};
  t.threads = 1;
  auto res = cvae::transfer(t);
  ASSERT_EQ(res.texts.size(), 2u);
  EXPECT_EQ(res.source_labels, (std::vector<std::string>{"red", "blue"}));
  EXPECT_GE(own_word_share(res.texts, 1), 0.9) << res.texts[0] << " | " << res.texts[1];
  EXPECT_EQ(res.source_texts[0], "w0a w0b the w0c w0d.");
}

TEST_F(ToyCorpus, SaveLoadRoundTripGivesTheSameTextsForTheSameSeed) {
  // The file written again from what was read must generate exactly the same texts.
  auto f = cvae::models::load_model_file(dir_->file("toy.cvae"));
  cvae::models::save_model_file(dir_->file("copy.cvae"), f);
  cvae::GenerateRequest g;
  g.model = dir_->file("toy.cvae");
  g.n = 8;
  g.threads = 1;
  g.decoding.method = "sample";
  g.seed = 11;
  auto a = cvae::generate(g);
  auto b = cvae::generate(g);
  g.model = dir_->file("copy.cvae");
  auto c = cvae::generate(g);
  EXPECT_EQ(a.texts, b.texts);
  EXPECT_EQ(a.texts, c.texts);
  g.seed = 12;
  EXPECT_NE(cvae::generate(g).texts, a.texts);
  EXPECT_FALSE(f.train_sequences.empty());
  EXPECT_EQ(f.model.vocabulary.size(), 4u + 3u * cvae::testing::kToyTextWords + 3u + 1u);
}

TEST_F(ToyCorpus, EvalReportsPerplexityAndTextFidelity) {
  cvae::ClassifierTrainRequest j;
  j.data.path = dir_->file("train.tsv");
  j.data.min_count = 1;
  j.out = dir_->file("judge.cls");
  j.epochs = 40;
  j.threads = 1;
  j.quiet = true;
  auto jr = cvae::train_classifier(j);
  EXPECT_GE(jr.test.accuracy, 0.95);  // the words give the label away
  cvae::EvalRequest e;
  e.model = dir_->file("toy.cvae");
  e.data.path = dir_->file("test.tsv");
  e.iw_samples = 20;
  e.judge = j.out;
  e.samples_per_label = 30;
  e.transfer_examples = 30;
  e.threads = 1;
  auto r = cvae::evaluate(e);
  EXPECT_EQ(r.n, 60);
  // Tokens: each toy text's words, its "." and <eos>.
  int64_t tokens = 0;
  {
    std::istringstream in(cvae::testing::read_bytes(dir_->file("test.tsv")));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line.substr(line.find('\t') + 1));
      std::string w;
      while (words >> w) ++tokens;
      tokens += 2;
    }
  }
  EXPECT_EQ(r.tokens, tokens);
  // exp(nll / tokens), and below the vocabulary size (better than uniform guessing).
  EXPECT_NEAR(r.perplexity, std::exp(r.iw_nll * double(r.n) / double(r.tokens)), 1e-6);
  EXPECT_LT(r.perplexity, 20.0);
  ASSERT_TRUE(r.has_fidelity);
  EXPECT_TRUE(r.fidelity.text);
  EXPECT_GE(r.fidelity.cond_accuracy, 0.9);
  EXPECT_GE(r.fidelity.transfer_accuracy, 0.8);
  EXPECT_GT(r.fidelity.distinct_2, 0.0);
  EXPECT_GT(r.fidelity.real_distinct_2, 0.0);
  const auto json = nlohmann::json::parse(cvae::eval_to_json(r, e));
  for (const char* key : {"perplexity", "cond_accuracy", "judge_real_accuracy", "distinct_1",
                          "distinct_2", "real_distinct_2", "copied_share", "transfer_accuracy"})
    EXPECT_TRUE(json.contains(key)) << key;
}

// A text run stopped part-way and resumed ends with the weights of an
// uninterrupted run (word dropout draws from the run's saved generator).
TEST(TextTraining, ResumeEqualsOneRun) {
  TempDir dir;
  cvae::testing::write_toy_text(dir.file("train.tsv"), 90, 3, 4);
  auto req = cvae::testing::toy_text_train_request(dir.file("train.tsv"), dir.file("one.cvae"), 3);
  req.train.gmm_components = 0;
  cvae::train(req);
  req.out = dir.file("split.cvae");
  req.stop_after_steps = 8;  // in the middle of epoch 2 (6 steps per epoch)
  auto first = cvae::train(req);
  ASSERT_TRUE(first.interrupted);
  cvae::TrainRequest again;
  again.resume = dir.file("split.cvae");
  again.data = req.data;
  again.quiet = true;
  cvae::train(again);
  auto a = cvae::models::load_model_file(dir.file("one.cvae"));
  auto b = cvae::models::load_model_file(dir.file("split.cvae"));
  EXPECT_EQ(a.state.step, b.state.step);
  EXPECT_TRUE(a.resume->weights == b.resume->weights) << "resumed weights differ";
}

}  // namespace
}  // namespace cvae
