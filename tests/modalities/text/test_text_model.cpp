// The text modality through the core: the categorical likelihood, the recurrent
// encoder and decoder (gradients, teacher forcing against step-by-step decoding,
// word dropout), the decoding strategies, and a toy corpus on which each label has
// its own words.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/modality.h"
#include "modalities/text/decode.h"
#include "modalities/text/fidelity.h"
#include "modalities/text/rnn.h"
#include "modalities/text/text_data.h"
#include "models/backbone.h"
#include "models/cvae_model.h"
#include "models/model_file.h"
#include "models/sampling.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace {

using cvae::ModelConfig;
using cvae::models::CVAE;
using cvae::testing::TempDir;

// A tiny text model: V = 12 tokens (4 specials + 8 words), T = 6, 2 labels.
ModelConfig tiny_text_config(double word_dropout = 0.0) {
  ModelConfig cfg;
  cfg.vocabulary = {"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d", "e", "f", "g", "h"};
  cfg.input_shape = {6};
  cfg.conditions = {cvae::ConditionSpec{"label", "categorical", {"x", "y"}}};
  cfg.hidden = {8};
  cfg.embedding = 5;
  cfg.latent = 3;
  cfg.word_dropout = word_dropout;
  return cfg;
}

// Two texts of different lengths: "a b c <eos>" and "d e f g h <eos>".
torch::Tensor tiny_tokens() {
  return torch::tensor({{4, 5, 6, 3, 0, 0}, {7, 8, 9, 10, 11, 3}}, torch::kInt64);
}

torch::Tensor tiny_conditions(const ModelConfig& cfg) {
  return cvae::data::encode_conditions(cfg.conditions, torch::tensor({{0}, {1}}, torch::kInt64));
}

TEST(CategoricalLikelihood, NllIsCrossEntropySummedOverNonPadPositions) {
  torch::manual_seed(3);
  const int64_t b = 2, t = 6, v = 12;
  cvae::models::CategoricalLikelihood lik(v);
  auto logits = torch::randn({b, t * v}, torch::kFloat64);
  auto x = tiny_tokens();
  auto got = lik.nll(logits, x);
  // Independent form: torch's cross entropy with the padding index ignored.
  auto ce = torch::nn::functional::cross_entropy(
      logits.view({b * t, v}), x.view({b * t}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(0).reduction(torch::kNone));
  auto want = ce.view({b, t}).sum(1);
  EXPECT_TRUE(torch::allclose(got, want, 1e-12, 1e-12)) << got << want;
  // Only the 4 and 6 real tokens count: changing logits at a padded position changes nothing.
  auto shifted = logits.clone();
  shifted[0].slice(0, 4 * v, 5 * v).add_(5.0);
  EXPECT_TRUE(torch::allclose(lik.nll(shifted, x), got));
}

TEST(CategoricalLikelihood, ChecksTokenIds) {
  cvae::models::CategoricalLikelihood lik(12);
  auto msg = cvae::testing::error_of([&] {
    lik.check_support(torch::tensor({{1, 12}}, torch::kInt64), "toy.tsv");
  });
  EXPECT_CONTAINS(msg, "outside the vocabulary");
  msg = cvae::testing::error_of([&] { lik.check_support(torch::zeros({1, 3}), "toy.tsv"); });
  EXPECT_CONTAINS(msg, "token ids");
  EXPECT_THROW(cvae::models::CategoricalLikelihood(1), cvae::ConfigError);
}

TEST(TextModel, ConfigResolvesRnnAndCategoricalAndRejectsMismatches) {
  auto cfg = tiny_text_config();
  const auto resolved = cvae::models::resolve_model_config(cfg);
  EXPECT_EQ(resolved.modality, "text");
  EXPECT_EQ(resolved.arch, "rnn");
  EXPECT_EQ(resolved.likelihood, "categorical");
  cfg.arch = "conv";
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.likelihood = "bernoulli";
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.hidden = {8, 8};
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
  cfg = tiny_text_config();
  cfg.word_dropout = 1.5;
  EXPECT_THROW(cvae::models::resolve_model_config(cfg), cvae::ConfigError);
}

TEST(TextModel, GradientsReachEveryParameter) {
  torch::manual_seed(1);
  auto cfg = tiny_text_config(0.25);
  CVAE model(cfg);
  model->train();
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg);
  auto terms = cvae::models::elbo_loss(*model, x, c, torch::randn({2, 3}), 1.0);
  terms.loss.backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

// Finite differences in double precision against autograd, through both GRUs.
TEST(TextModel, GradientMatchesFiniteDifferences) {
  torch::manual_seed(2);
  auto cfg = tiny_text_config(0.0);
  CVAE model(cfg);
  model->to(torch::kFloat64);
  model->eval();
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg).to(torch::kFloat64);
  auto eps = torch::randn({2, 3}, torch::kFloat64);
  auto loss = [&] { return cvae::models::elbo_loss(*model, x, c, eps, 1.0).loss; };
  model->zero_grad();
  loss().backward();
  int checked = 0;
  for (const auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    if (name.find("gru") == std::string::npos && name.find("embed") == std::string::npos &&
        name.find("out") == std::string::npos && name.find("init") == std::string::npos)
      continue;
    auto flat = p.value().view({-1});
    auto grad = p.value().grad().view({-1});
    for (int64_t i : {int64_t{0}, flat.size(0) / 2, flat.size(0) - 1}) {
      torch::NoGradGuard no_grad;
      const double h = 1e-6, orig = flat[i].item<double>();
      flat[i] = orig + h;
      const double up = loss().item<double>();
      flat[i] = orig - h;
      const double down = loss().item<double>();
      flat[i] = orig;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(grad[i].item<double>(), numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 3 * 10);
}

// Teacher forcing and step-by-step decoding are the same function of the previous tokens.
TEST(TextModel, TeacherForcingMatchesStepByStep) {
  torch::manual_seed(4);
  auto cfg = tiny_text_config(0.5);
  CVAE model(cfg);
  model->eval();  // no word dropout
  torch::NoGradGuard no_grad;
  auto x = tiny_tokens();
  auto c = tiny_conditions(cfg);
  auto z = torch::randn({2, 3});
  auto forced = model->decode(z, c, x).view({2, 6, 12});
  auto* dec = &cvae::modalities::text::recurrent_decoder(*model);
  auto zc = torch::cat({z, c}, 1);
  auto h = dec->initial_state(zc);
  auto prev = torch::full({2}, cvae::modalities::text::RecurrentDecoder::kBos, torch::kInt64);
  for (int64_t t = 0; t < 6; ++t) {
    auto logits = dec->step(prev, h, zc);
    EXPECT_TRUE(torch::allclose(logits, forced.select(1, t), 1e-5, 1e-5)) << "position " << t;
    prev = x.select(1, t);
  }
}

// With word dropout 1 in training, the decoder sees only <bos> and <unk>: the
// logits do not depend on the words; in eval mode they do.
TEST(TextModel, WordDropoutHidesThePreviousWords) {
  torch::manual_seed(5);
  auto cfg = tiny_text_config(1.0);
  CVAE model(cfg);
  torch::NoGradGuard no_grad;
  auto x1 = torch::tensor({{4, 5, 6, 7, 8, 3}}, torch::kInt64);
  auto x2 = torch::tensor({{9, 10, 11, 4, 5, 3}}, torch::kInt64);
  auto c = cvae::data::encode_conditions(cfg.conditions, torch::tensor({{0}}, torch::kInt64));
  auto z = torch::randn({1, 3});
  model->train();
  EXPECT_TRUE(torch::allclose(model->decode(z, c, x1), model->decode(z, c, x2)));
  model->eval();
  EXPECT_FALSE(torch::allclose(model->decode(z, c, x1), model->decode(z, c, x2)));
}

TEST(TextDecoding, BeamOfOneAndTopKOfOneAreGreedy) {
  torch::manual_seed(6);
  auto cfg = tiny_text_config();
  CVAE model(cfg);
  model->eval();
  auto z = torch::randn({5, 3});
  auto c = cvae::data::encode_conditions(cfg.conditions,
                                         torch::tensor({{0}, {1}, {0}, {1}, {0}}, torch::kInt64));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  cvae::core::DecodeOptions greedy;
  auto g = cvae::modalities::text::decode_text(*model, z, c, greedy, gen);
  cvae::core::DecodeOptions beam;
  beam.method = "beam";
  beam.beam = 1;
  EXPECT_TRUE(torch::equal(cvae::modalities::text::decode_text(*model, z, c, beam, gen), g));
  cvae::core::DecodeOptions top1;
  top1.method = "sample";
  top1.top_k = 1;
  EXPECT_TRUE(torch::equal(cvae::modalities::text::decode_text(*model, z, c, top1, gen), g));
  cvae::core::DecodeOptions nucleus;
  nucleus.method = "sample";
  nucleus.top_p = 1e-6;  // only the most likely token holds that much
  EXPECT_TRUE(torch::equal(cvae::modalities::text::decode_text(*model, z, c, nucleus, gen), g));
  // Every row: no specials but <eos>, and <pad> only after the <eos>.
  for (int64_t i = 0; i < g.size(0); ++i) {
    bool ended = false;
    for (int64_t t = 0; t < g.size(1); ++t) {
      const int64_t id = g[i][t].item<int64_t>();
      if (ended) {
        EXPECT_EQ(id, 0);
      } else {
        EXPECT_TRUE(id == 3 || id >= 4) << id;
        ended = id == 3;
      }
    }
  }
}

TEST(TextDecoding, BeamScoresAtLeastGreedyPerToken) {
  torch::manual_seed(7);
  auto cfg = tiny_text_config();
  CVAE model(cfg);
  model->eval();
  torch::NoGradGuard no_grad;
  auto z = torch::randn({8, 3});
  auto c = cvae::data::encode_conditions(cfg.conditions, torch::zeros({8, 1}, torch::kInt64));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  cvae::core::DecodeOptions greedy;
  cvae::core::DecodeOptions beam;
  beam.method = "beam";
  beam.beam = 4;
  // Log-probability per token of a decoded sequence under the model (teacher forcing).
  auto per_token = [&](const torch::Tensor& ids) {
    auto logp = torch::log_softmax(model->decode(z, c, ids).view({8, 6, 12}), -1);
    auto picked = logp.gather(2, ids.unsqueeze(2)).squeeze(2);
    auto mask = (ids != 0).to(torch::kFloat32);
    return (picked * mask).sum(1) / mask.sum(1);
  };
  auto g = per_token(cvae::modalities::text::decode_text(*model, z, c, greedy, gen));
  auto b = per_token(cvae::modalities::text::decode_text(*model, z, c, beam, gen));
  // Beam search can miss the best sequence, but on average it is not worse than greedy.
  EXPECT_GE(b.mean().item<double>(), g.mean().item<double>() - 1e-5);
}

TEST(TextDecoding, RejectsBadOptions) {
  cvae::core::DecodeOptions o;
  o.method = "nucleus";
  EXPECT_THROW(o.validate(), cvae::ConfigError);
  o = {};
  o.top_p = 0;
  EXPECT_THROW(o.validate(), cvae::ConfigError);
  o = {};
  o.temperature = 0;
  EXPECT_THROW(o.validate(), cvae::ConfigError);
  o = {};
  o.beam = 0;
  EXPECT_THROW(o.validate(), cvae::ConfigError);
}

TEST(TextMetrics, CountNgrams) {
  // "a b a <eos>" and "a b <eos>": unigrams a b a a b (2 distinct of 5),
  // bigrams ab ba ab (2 distinct of 3).
  auto ids = torch::tensor({{4, 5, 4, 3, 0}, {4, 5, 3, 0, 0}}, torch::kInt64);
  EXPECT_EQ(cvae::modalities::text::count_ngrams(ids, 1), (std::pair<int64_t, int64_t>{2, 5}));
  EXPECT_EQ(cvae::modalities::text::count_ngrams(ids, 2), (std::pair<int64_t, int64_t>{2, 3}));
  EXPECT_EQ(cvae::modalities::text::count_ngrams(ids, 3), (std::pair<int64_t, int64_t>{1, 1}));
}

TEST(TextMetrics, SequenceHashesFindTheSameTextsOnly) {
  auto train = torch::tensor({{4, 5, 3, 0}, {6, 3, 0, 0}}, torch::kInt64);
  const std::string hashes = cvae::modalities::text::sequence_hashes_bytes(train);
  EXPECT_EQ(hashes.size(), 16u);
  // The same words with other padding match; a prefix, an extension or another order do not.
  auto probe = torch::tensor(
      {{4, 5, 3, 0, 0}, {4, 3, 0, 0, 0}, {4, 5, 6, 3, 0}, {5, 4, 3, 0, 0}, {6, 3, 0, 0, 0}},
      torch::kInt64);
  EXPECT_EQ(cvae::modalities::text::sequences_in(hashes, probe),
            (std::vector<bool>{true, false, false, false, true}));
}

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

// Beam search against every sequence: V = 6 (two words), T = 3, and a beam wide
// enough to hold every hypothesis, so it must return the best per-token score.
TEST(TextDecoding, WideBeamFindsTheBestSequence) {
  ModelConfig cfg;
  cfg.vocabulary = {"<pad>", "<unk>", "<bos>", "<eos>", "a", "b"};
  cfg.input_shape = {3};
  cfg.conditions = {cvae::ConditionSpec{"label", "categorical", {"x", "y"}}};
  cfg.hidden = {6};
  cfg.embedding = 4;
  cfg.latent = 2;
  for (int seed = 0; seed < 5; ++seed) {
    torch::manual_seed(seed);
    CVAE model(cfg);
    model->eval();
    torch::NoGradGuard no_grad;
    auto z = torch::randn({1, 2}) * 3;
    auto c = cvae::data::encode_conditions(cfg.conditions,
                                           torch::tensor({{int64_t{seed % 2}}}, torch::kInt64));
    // Every text the decoder can produce: <eos>; w <eos>; w w <eos>; w w w (cut at T).
    std::vector<std::vector<int64_t>> all = {{3, 0, 0}};
    for (int64_t a : {4, 5}) {
      all.push_back({a, 3, 0});
      for (int64_t b : {4, 5}) {
        all.push_back({a, b, 3});
        for (int64_t d : {4, 5}) all.push_back({a, b, d});
      }
    }
    double best = -1e30;
    std::vector<int64_t> best_ids;
    for (const auto& ids : all) {
      auto x = torch::tensor(ids, torch::kInt64).unsqueeze(0);
      auto logp = torch::log_softmax(model->decode(z, c, x).view({1, 3, 6}), -1);
      double sum = 0;
      int64_t n = 0;
      for (int64_t t = 0; t < 3 && ids[static_cast<size_t>(t)] != 0; ++t, ++n)
        sum += logp[0][t][ids[static_cast<size_t>(t)]].item<double>();
      if (sum / double(n) > best) best = sum / double(n), best_ids = ids;
    }
    cvae::core::DecodeOptions beam;
    beam.method = "beam";
    beam.beam = 16;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
    auto got = cvae::modalities::text::decode_text(*model, z, c, beam, gen);
    EXPECT_EQ(std::vector<int64_t>(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + 3), best_ids)
        << "seed " << seed;
  }
}

// Reranking keeps, per text, the candidate the model most assigns to the target
// label: never below the first candidate (the one without reranking), and the
// argmax over the candidates it drew.
TEST(TextDecoding, RerankKeepsTheCandidateOfHighestLabelPosterior) {
  torch::manual_seed(8);
  auto cfg = tiny_text_config();
  CVAE model(cfg);
  model->eval();
  torch::NoGradGuard no_grad;
  auto targets = torch::tensor({{0}, {1}, {0}, {1}, {1}, {0}}, torch::kInt64);
  cvae::core::DecodeOptions opt;
  opt.method = "sample";
  // The candidates, drawn as decode_text_reranked draws them.
  std::vector<torch::Tensor> zs;
  auto gen_z = at::make_generator<at::CPUGeneratorImpl>(3);
  for (int i = 0; i < 4; ++i) zs.push_back(torch::randn({6, 3}, gen_z) * 2);
  size_t next = 0;
  auto draw = [&] { return zs[next++ % zs.size()]; };
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  auto c = cvae::data::encode_conditions(cfg.conditions, targets);
  std::vector<torch::Tensor> candidates;
  for (int i = 0; i < 4; ++i)
    candidates.push_back(cvae::modalities::text::decode_text(*model, zs[i], c, opt, gen));
  auto score = [&](const torch::Tensor& ids) {
    return cvae::models::label_log_posterior(*model, ids).gather(1, targets).squeeze(1);
  };
  opt.rerank = 4;
  next = 0;
  auto gen2 = at::make_generator<at::CPUGeneratorImpl>(9);
  auto kept = cvae::modalities::text::decode_text_reranked(*model, draw, targets, opt, gen2);
  auto best = score(candidates[0]);
  for (const auto& cand : candidates) best = torch::maximum(best, score(cand));
  EXPECT_TRUE(torch::allclose(score(kept), best));
  EXPECT_TRUE((score(kept) >= score(candidates[0]) - 1e-9).all().item<bool>());
}

TEST(TextData, TestSplitOfATrainFileAndLabelChecks) {
  TempDir dir;
  cvae::testing::write_bytes(dir.file("train.tsv"), "b\tw x.\na\tx y.\n");
  cvae::testing::write_bytes(dir.file("constraints.tsv"), "b\tw x.\n");
  cvae::DataConfig cfg;
  cfg.path = dir.file("train.tsv");
  cfg.min_count = 1;
  // No test.tsv beside train.tsv: a clear error.
  auto msg = cvae::testing::error_of([&] { cvae::modalities::load_dataset(cfg, "test"); });
  EXPECT_CONTAINS(msg, "test.tsv");
  // With it, the test split reads it, labels sorted by name and mapped to the model's.
  cvae::testing::write_bytes(dir.file("test.tsv"), "b\tx w.\n");
  auto train = cvae::modalities::load_dataset(cfg, "train");
  EXPECT_EQ(train.conditions[0].labels, (std::vector<std::string>{"a", "b"}));
  auto test = cvae::modalities::load_dataset_for(cfg, "test", train.modality, train.example_shape(),
                                                 train.vocabulary);
  EXPECT_EQ(test.source, dir.file("test.tsv"));
  cvae::data::check_compatible(test, train.example_shape(), train.conditions);
  EXPECT_EQ(test.y[0][0].item<int64_t>(), 1);  // "b" is the model's label 1
  EXPECT_EQ(test.x.size(1), train.x.size(1));
  // "train" inside another word is not the train split's name.
  cfg.path = dir.file("constraints.tsv");
  EXPECT_EQ(cvae::modalities::load_dataset(cfg, "test").source, dir.file("constraints.tsv"));
  // Labels with a comma cannot be named on the command line.
  cvae::testing::write_bytes(dir.file("comma.tsv"), "a,b\tw x.\n");
  cfg.path = dir.file("comma.tsv");
  msg = cvae::testing::error_of([&] { cvae::modalities::load_dataset(cfg, "train"); });
  EXPECT_CONTAINS(msg, "line 1");
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
