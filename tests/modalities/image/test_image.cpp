// modalities/image/image.cpp: the image modality as the registry hands it out:
// what it claims, its defaults, backbones and likelihoods, its readers, the judge
// check, generate writing PNG grids and IDX pairs, and its refusals of non-image input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/sampling.h"
#include "cvae/api.h"
#include "cvae/errors.h"
#include "data/dataset.h"
#include "io/idx.h"
#include "io/png.h"
#include "modalities/modality.h"
#include "models/model_file.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

namespace cvae {
namespace {

using testing::error_of;

const modalities::Modality& image_modality() { return modalities::modality("image"); }

// An untrained MLP image model of 1x8x8 with three labels, and its file's contents.
struct UntrainedImageModel {
  models::CVAE model{nullptr};
  models::ModelFile info;
  explicit UntrainedImageModel(std::vector<int64_t> shape = {1, 8, 8}) {
    torch::manual_seed(17);
    model = models::CVAE(testing::toy_model_config(std::move(shape), 3, {16}, 2));
    model->eval();
    info.model = model->config();
  }
};

// Runs the modality's generate for labels `rows` (label indices), n each.
GenerateResult run_generate(UntrainedImageModel& m, const std::string& out,
                            const std::string& format, const io::LabelRows& label_rows, int64_t n,
                            int64_t candidates) {
  GenerateRequest req;
  req.model = "unused";
  req.n = n;
  req.out = out;
  req.format = format;
  auto rows = data::label_rows_tensor(label_rows, 1);
  auto names = data::label_names(m.info.model.conditions, rows);
  core::Sampling sampling;
  sampling.latent_temperature = 1.0;
  sampling.decode.rerank = candidates;
  models::LatentMixture mixture;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  return image_modality().generate(
      {req, *m.model, m.info, label_rows, rows, names, sampling, mixture, format, gen});
}

TEST(ImageModality, ClaimsDirectoriesOnly) {
  testing::TempDir dir("cvae-image-modality");
  const auto& m = image_modality();
  EXPECT_EQ(m.modality(), "image");
  DataConfig cfg;
  cfg.path = dir.path();
  EXPECT_TRUE(m.claims(cfg));
  testing::write_bytes(dir.file("train.tsv"), "a\tb\n");
  cfg.path = dir.file("train.tsv");
  EXPECT_FALSE(m.claims(cfg));
  cfg.path = dir.file("missing");
  EXPECT_FALSE(m.claims(cfg));
  EXPECT_NE(m.data_description().find("directory"), std::string::npos);
}

TEST(ImageModality, DefaultsBackbonesAndLikelihoods) {
  const auto& m = image_modality();
  const auto d = m.defaults();
  EXPECT_EQ(d.formats, (std::vector<std::string>{"png", "idx"}));  // png is "auto"
  EXPECT_EQ(d.iw_samples, 1000);
  EXPECT_EQ(d.judge_epochs, 15);
  EXPECT_EQ(d.free_bits, 0.0);
  EXPECT_TRUE(d.sampling.temperature_is_latent);
  EXPECT_EQ(d.sampling.latent_temperature, kImageLatentTemperature);
  EXPECT_EQ(d.sampling.candidates, kImageCandidates);
  EXPECT_EQ(m.archs(), (std::vector<std::string>{"mlp", "conv"}));
  EXPECT_EQ(m.likelihoods(), (std::vector<std::string>{"bernoulli", "cbernoulli", "gaussian"}));
  ModelConfig cfg = testing::toy_model_config({1, 8, 8}, 3);
  EXPECT_EQ(m.default_likelihood(cfg), "bernoulli");
  // Files that name no modality are images unless they carry a vocabulary.
  EXPECT_TRUE(m.owns_unnamed({1, 8, 8}, {}));
  EXPECT_FALSE(m.owns_unnamed({16}, {"<pad>", "<unk>", "<bos>", "<eos>"}));
}

TEST(ImageModality, ReadsIdxDirectoriesAndFillsTheReadingFromTheShape) {
  testing::TempDir dir("cvae-image-read");
  testing::write_toy_idx(dir.path(), 9, 3, 8, 3, 1);
  const auto& m = image_modality();
  DataConfig cfg;
  cfg.path = dir.path();
  auto d = m.load(cfg, "train");
  EXPECT_EQ(d.x.sizes().vec(), (std::vector<int64_t>{9, 1, 8, 8}));
  EXPECT_EQ(m.load(cfg, "test").x.size(0), 3);
  auto r = m.reading_for(cfg, {3, 10, 6}, {});
  EXPECT_EQ(r.image_height, 10);
  EXPECT_EQ(r.image_width, 6);
  EXPECT_EQ(r.channels, 3);
  EXPECT_EQ(r.path, cfg.path);
}

TEST(ImageModality, TheJudgeMustTakeTheModelsShape) {
  const auto& m = image_modality();
  ModelConfig model = testing::toy_model_config({1, 8, 8}, 3);
  models::ClassifierConfig judge;
  judge.input_shape = {1, 8, 8};
  EXPECT_NO_THROW(m.check_judge(model, judge, "j.cls"));
  judge.input_shape = {3, 8, 8};
  const std::string msg = error_of<ConfigError>([&] { m.check_judge(model, judge, "j.cls"); });
  EXPECT_CONTAINS(msg, "'j.cls'");
  EXPECT_CONTAINS(msg, "3x8x8");
  EXPECT_CONTAINS(msg, "1x8x8");
}

TEST(ImageModality, GenerateWritesAPngGridOfLabelsBySamples) {
  testing::TempDir dir("cvae-image-generate");
  UntrainedImageModel m;
  for (int64_t candidates : {1, 3}) {  // the torch-free sampler, and reranked torch samples
    const std::string out = dir.file("s" + std::to_string(candidates) + ".png");
    auto res = run_generate(m, out, "png", {{0}, {2}}, 3, candidates);
    EXPECT_EQ(res.count, 6);
    ASSERT_EQ(res.files, (std::vector<std::string>{out}));
    io::Image img = io::read_png(out);
    EXPECT_EQ(img.channels, 1);
    EXPECT_EQ(img.height, 2 * 8 + 3 * 2) << "one row per label";
    EXPECT_EQ(img.width, 3 * 8 + 4 * 2) << "one column per sample";
  }
}

TEST(ImageModality, GenerateWritesAnIdxPairWithTheLabelOfEachSample) {
  testing::TempDir dir("cvae-image-generate-idx");
  UntrainedImageModel m;
  auto res = run_generate(m, dir.file("out.png"), "idx", {{2}, {0}}, 2, 1);
  EXPECT_EQ(res.count, 4);
  ASSERT_EQ(res.files, (std::vector<std::string>{dir.file("out-images-idx3-ubyte"),
                                                 dir.file("out-labels-idx1-ubyte")}));
  io::IdxArray x = io::read_idx(res.files[0]);
  EXPECT_EQ(x.dims, (std::vector<int64_t>{4, 8, 8}));
  EXPECT_EQ(io::read_idx(res.files[1]).data, (std::vector<uint8_t>{2, 2, 0, 0}));
  // Mean images of a Bernoulli decoder are never all black or all white.
  int64_t sum = 0;
  for (uint8_t v : x.data) sum += v;
  EXPECT_GT(sum, 0);
  EXPECT_LT(sum, 255 * static_cast<int64_t>(x.data.size()));
}

TEST(ImageModality, RefusesTextOptionsAndModelsThatAreNotImages) {
  const auto& m = image_modality();
  UntrainedImageModel img;
  TransferRequest t;
  t.texts = {"some words"};
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.transfer(t, *img.model, img.info); }),
                  "--text needs a text model");
  InterpolateRequest q;
  q.from_text = "some words";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.interpolate(q, *img.model, img.info); }),
                  "need a text model");
  // A flat (64-feature) model has no C x H x W images to write.
  UntrainedImageModel flat({64});
  TransferRequest t2;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.transfer(t2, *flat.model, flat.info); }),
                  "needs an image model");
  InterpolateRequest q2;
  q2.label = "0";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.interpolate(q2, *flat.model, flat.info); }),
                  "needs an image model");
  // Without a label the walk has no condition.
  InterpolateRequest q3;
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.interpolate(q3, *img.model, img.info); }),
                  "no --label");
  TransferRequest t3;
  t3.format = "gif";
  EXPECT_CONTAINS(error_of<ConfigError>([&] { m.transfer(t3, *img.model, img.info); }),
                  "unknown --format");
}

}  // namespace
}  // namespace cvae
