// modalities/text/fidelity.cpp: distinct-n counts and the training-text hashes
// that find copies.
#include <gtest/gtest.h>

#include "cvae/api.h"
#include "data/dataset.h"
#include "modalities/text/fidelity.h"
#include "modalities/text/text_data.h"

namespace cvae {
namespace {

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

}  // namespace
}  // namespace cvae
