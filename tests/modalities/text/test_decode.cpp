// modalities/text/decode.cpp: greedy, sampling, beam search and reranking.
#include <gtest/gtest.h>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "modalities/text/decode.h"
#include "models/backbone.h"
#include "models/cvae_model.h"
#include "models/sampling.h"
#include "support/text_fixtures.h"

namespace cvae {
namespace {

using testing::tiny_text_config;

using cvae::ModelConfig;

using cvae::models::CVAE;

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

}  // namespace
}  // namespace cvae
