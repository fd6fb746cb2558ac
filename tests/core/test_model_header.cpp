// The model file's header check (src/core/model_header.cpp), shared by the
// torch model loader and the launcher: what it accepts, and a CheckpointError
// naming the file for each thing that can be wrong with a header.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/config_json.h"
#include "core/container.h"
#include "core/model_header.h"
#include "cvae/config.h"
#include "cvae/errors.h"
#include "support/expect_error.h"

namespace cvae::core {
namespace {

using nlohmann::json;

ModelConfig small_model() {
  ModelConfig m;
  m.modality = "image";
  m.arch = "mlp";
  m.input_shape = {1, 4, 4};
  m.hidden = {8};
  m.latent = 2;
  m.conditions = {{"label", "categorical", {"a", "b"}}};
  return m;
}

Container model_file() {
  Container c;
  TrainConfig t;
  t.epochs = 3;
  c.header = {{"program", "cvae"},
              {"kind", "model"},
              {"model", small_model()},
              {"train", t},
              {"state", {{"epoch", 2}, {"step", 17}}}};
  c.blobs["weights"] = "w";
  return c;
}

std::string rejection(const Container& c) {
  return testing::error_of<CheckpointError>([&] { read_model_header(c, "dir/m.cvae"); });
}

TEST(ModelHeader, ReadsTheConfigsAndTheState) {
  const ModelHeader h = read_model_header(model_file(), "m.cvae");
  EXPECT_EQ(h.model.modality, "image");
  EXPECT_EQ(h.model.input_shape, (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(h.model.conditions.at(0).labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.train.epochs, 3);
  EXPECT_EQ(h.state, json({{"epoch", 2}, {"step", 17}}));
}

TEST(ModelHeader, AHeaderWithoutKindIsAModel) {
  Container c = model_file();
  c.header.erase("kind");
  EXPECT_EQ(read_model_header(c, "m.cvae").model.latent, 2);
}

TEST(ModelHeader, AnotherProgramsFileIsNamed) {
  Container c = model_file();
  c.header["program"] = "other";
  EXPECT_CONTAINS(rejection(c),
                  "'dir/m.cvae' was not written by cvae (program 'other' vs expected 'cvae')");
  c.header.erase("program");
  EXPECT_CONTAINS(rejection(c), "(program '?' vs expected 'cvae')");
}

TEST(ModelHeader, AnotherKindOfCvaeFileIsNamed) {
  Container c = model_file();
  c.header["kind"] = "judge";
  EXPECT_CONTAINS(rejection(c),
                  "'dir/m.cvae' is a cvae judge file, not a model file (expected the output of "
                  "cvae train)");
}

TEST(ModelHeader, IncompleteOrMistypedHeadersAreCheckpointErrors) {
  for (const char* key : {"model", "train", "state"}) {
    Container c = model_file();
    c.header.erase(key);
    EXPECT_CONTAINS(rejection(c), "model file 'dir/m.cvae' has an incomplete header") << key;
  }
  Container c = model_file();
  c.header["model"]["latent"] = "two";
  EXPECT_CONTAINS(rejection(c), "has an incomplete header");
  c = model_file();
  c.header["program"] = 7;  // not a string
  EXPECT_CONTAINS(rejection(c), "has an incomplete header");
  // Not an object at all (what parse_container returns for a JSON array or null).
  for (const json& header : {json::array({1, 2}), json()}) {
    c = model_file();
    c.header = header;
    EXPECT_CONTAINS(rejection(c), "'dir/m.cvae'") << header.dump();
  }
}

TEST(ModelHeader, AnInvalidModelConfigIsNamed) {
  Container c = model_file();
  c.header["model"]["latent"] = 0;
  EXPECT_CONTAINS(rejection(c),
                  "model file 'dir/m.cvae' holds an invalid model config: latent size out of range "
                  "(got 0 vs expected 1..4096)");
}

TEST(ModelHeader, NoWeightsIsNamed) {
  Container c = model_file();
  c.blobs.clear();
  c.blobs["resume/weights"] = "w";  // not the weights generation uses
  EXPECT_CONTAINS(rejection(c),
                  "model file 'dir/m.cvae' has no weights (expected a 'weights' or "
                  "'inference/weights_f32' blob)");
}

TEST(ModelHeader, RawWeightsAloneAreWeights) {  // a version 2 MLP image model
  Container c = model_file();
  c.blobs.clear();
  c.blobs["inference/weights_f32"] = "raw";
  EXPECT_EQ(read_model_header(c, "m.cvae").model.modality, "image");
}

}  // namespace
}  // namespace cvae::core
