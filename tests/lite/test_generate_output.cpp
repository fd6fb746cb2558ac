// generate's request checks and summary line (src/lite/generate_output.cpp),
// shared by cvae::generate and the launcher's torch-free generate.
#include <gtest/gtest.h>

#include <string>

#include "cvae/api.h"
#include "cvae/errors.h"
#include "lite/generate_output.h"
#include "support/expect_error.h"

namespace cvae::lite {
namespace {

std::string rejection(const GenerateRequest& r) {
  return testing::error_of<ConfigError>([&] { check_generate_request(r); });
}

TEST(CheckGenerateRequest, CountWithinOneTo100000) {
  GenerateRequest r;
  EXPECT_NO_THROW(check_generate_request(r));  // the defaults
  r.n = 1;
  EXPECT_NO_THROW(check_generate_request(r));
  r.n = 100000;
  EXPECT_NO_THROW(check_generate_request(r));
  r.n = 0;
  EXPECT_CONTAINS(rejection(r), "-n out of range (got 0 vs expected 1..100000)");
  r.n = -3;
  EXPECT_CONTAINS(rejection(r), "(got -3 vs");
  r.n = 100001;
  EXPECT_CONTAINS(rejection(r), "(got 100001 vs");
}

TEST(CheckGenerateRequest, AFormatMustBeGiven) {
  GenerateRequest r;
  r.format = "";
  EXPECT_CONTAINS(rejection(r),
                  "no --format given (expected auto or one the model's modality writes)");
  r.format = "anything";  // which formats fit is the modality's to say
  EXPECT_NO_THROW(check_generate_request(r));
}

TEST(CheckSampleCount, AtMostAMillion) {
  EXPECT_NO_THROW(check_sample_count(1000, 1000));
  EXPECT_NO_THROW(check_sample_count(1, 1000000));
  EXPECT_CONTAINS(testing::error_of<ConfigError>([] { check_sample_count(1000, 1001); }),
                  "too many samples (got 1000 labels x 1001 vs expected at most 1000000)");
  EXPECT_THROW(check_sample_count(1000001, 1), ConfigError);
}

TEST(GenerateSummary, NamesFilesCountsAndLabels) {
  GenerateResult r;
  r.files = {"out/samples.png"};
  r.count = 6;
  r.labels = {"3", "7"};
  EXPECT_EQ(generate_summary(r, 3),
            "wrote out/samples.png (6 samples: 3 for each of 2 label(s): 3 7)");
  r.files = {"x-images-idx3-ubyte", "x-labels-idx1-ubyte"};
  r.count = 2;
  r.labels = {"accent=welsh+word=seven"};
  EXPECT_EQ(generate_summary(r, 2),
            "wrote x-images-idx3-ubyte and x-labels-idx1-ubyte (2 samples: 2 for each of 1 "
            "label(s): accent=welsh+word=seven)");
}

}  // namespace
}  // namespace cvae::lite
