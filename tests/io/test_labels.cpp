// Label strings <-> label-index rows (src/io/labels.cpp), and where UTF-8
// stops being valid (is_valid_utf8's cases are in modalities/text/test_tokens.cpp).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cvae/config.h"
#include "cvae/errors.h"
#include "io/labels.h"
#include "support/expect_error.h"

namespace cvae::io {
namespace {

const std::vector<ConditionSpec> kDigits = {{"label", "categorical", {"0", "1", "2", "3"}}};
const std::vector<ConditionSpec> kTwo = {{"accent", "categorical", {"scottish", "welsh", "irish"}},
                                         {"word", "categorical", {"one", "seven"}}};

std::string rejection(const std::vector<ConditionSpec>& c, const std::vector<std::string>& r) {
  return testing::error_of<ConfigError>([&] { parse_label_rows(c, r); });
}

TEST(ParseLabelRows, OneConditionNamesListsAndAll) {
  EXPECT_EQ(parse_label_rows(kDigits, {"2"}), (LabelRows{{2}}));
  EXPECT_EQ(parse_label_rows(kDigits, {"3,0,3"}), (LabelRows{{3}, {0}, {3}}));  // order, repeats
  EXPECT_EQ(parse_label_rows(kDigits, {"all"}), (LabelRows{{0}, {1}, {2}, {3}}));
  // Several arguments add up, in order.
  EXPECT_EQ(parse_label_rows(kDigits, {"1", "all", "0,2"}),
            (LabelRows{{1}, {0}, {1}, {2}, {3}, {0}, {2}}));
}

TEST(ParseLabelRows, TheOneConditionMayBeNamed) {
  EXPECT_EQ(parse_label_rows(kDigits, {"label=2"}), (LabelRows{{2}}));
  EXPECT_EQ(parse_label_rows(kDigits, {"label=1,3"}), (LabelRows{{1}, {3}}));
  EXPECT_CONTAINS(rejection(kDigits, {"label=9"}), "unknown label '9' for condition 'label'");
  EXPECT_CONTAINS(rejection(kDigits, {"genre=1"}), "unknown label 'genre=1'");
  // A label that itself reads "label=x" is that label.
  const std::vector<ConditionSpec> odd = {{"label", "categorical", {"x", "label=x"}}};
  EXPECT_EQ(parse_label_rows(odd, {"label=x"}), (LabelRows{{1}}));
}

TEST(ParseLabelRows, LabelsAreNamesNotIndices) {
  const std::vector<ConditionSpec> named = {{"label", "categorical", {"cat", "dog", "0"}}};
  EXPECT_EQ(parse_label_rows(named, {"dog,0"}), (LabelRows{{1}, {2}}));
  EXPECT_CONTAINS(rejection(named, {"1"}),
                  "unknown label '1' for condition 'label' (expected one of: cat, dog, 0, or all)");
}

TEST(ParseLabelRows, UnknownAndEmptyRequests) {
  EXPECT_CONTAINS(rejection(kDigits, {}), "no label given (expected a label name or all)");
  EXPECT_CONTAINS(rejection(kDigits, {"7"}),
                  "unknown label '7' for condition 'label' (expected one of: 0, 1, 2, 3, or all)");
  EXPECT_CONTAINS(rejection(kDigits, {"1,,2"}), "unknown label '' for condition 'label'");
  EXPECT_CONTAINS(rejection(kDigits, {"1,"}), "unknown label ''");
  EXPECT_CONTAINS(rejection(kDigits, {"ALL"}), "unknown label 'ALL'");  // case matters
}

TEST(ParseLabelRows, SeveralConditionsByNameInAnyOrder) {
  EXPECT_EQ(parse_label_rows(kTwo, {"accent=welsh+word=seven"}), (LabelRows{{1, 1}}));
  EXPECT_EQ(parse_label_rows(kTwo, {"word=one+accent=irish"}), (LabelRows{{2, 0}}));
  EXPECT_EQ(parse_label_rows(kTwo, {"accent=scottish+word=one", "accent=irish+word=seven"}),
            (LabelRows{{0, 0}, {2, 1}}));
}

TEST(ParseLabelRows, AllIsEveryCombinationLastConditionFastest) {
  EXPECT_EQ(parse_label_rows(kTwo, {"all"}),
            (LabelRows{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}}));
  const std::vector<ConditionSpec> three = {{"a", "categorical", {"x"}},
                                            {"b", "categorical", {"p", "q"}},
                                            {"c", "categorical", {"u", "v"}}};
  EXPECT_EQ(parse_label_rows(three, {"all"}),
            (LabelRows{{0, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1}}));
}

TEST(ParseLabelRows, SeveralConditionsErrorsSayWhatIsMissing) {
  EXPECT_CONTAINS(rejection(kTwo, {"welsh"}),
                  "label 'welsh' does not name its condition (expected name=value joined by '+', "
                  "e.g. accent=scottish)");
  EXPECT_CONTAINS(rejection(kTwo, {"accent=welsh+colour=red"}),
                  "unknown condition 'colour' (expected one of: accent, word)");
  EXPECT_CONTAINS(rejection(kTwo, {"accent=welsh"}),
                  "label 'accent=welsh' does not set condition 'word'");
  EXPECT_CONTAINS(rejection(kTwo, {"accent=english+word=one"}),
                  "unknown label 'english' for condition 'accent' (expected one of: scottish, "
                  "welsh, irish, or all)");
}

TEST(LabelRowName, OneConditionIsTheLabelSeveralAreNamed) {
  EXPECT_EQ(label_row_name(kDigits, {2}), "2");
  EXPECT_EQ(label_row_name(kTwo, {1, 1}), "accent=welsh+word=seven");
  EXPECT_THROW(label_row_name(kDigits, {4}), std::out_of_range);
  EXPECT_THROW(label_row_name(kTwo, {0}), std::out_of_range);
}

TEST(LabelRowName, ParsesBackToTheSameRow) {
  for (const auto* conditions : {&kDigits, &kTwo}) {
    for (const auto& row : parse_label_rows(*conditions, {"all"})) {
      EXPECT_EQ(parse_label_rows(*conditions, {label_row_name(*conditions, row)}), LabelRows{row});
    }
  }
}

TEST(FirstInvalidUtf8, PointsAtTheFirstBadSequence) {
  constexpr size_t npos = std::string_view::npos;
  EXPECT_EQ(first_invalid_utf8(""), npos);
  EXPECT_EQ(first_invalid_utf8(std::string_view("a\0b", 3)), npos);  // NUL is a character
  EXPECT_EQ(first_invalid_utf8("ab\xC3"), 2u);                       // truncated at the end
  EXPECT_EQ(first_invalid_utf8("caf\xC3\xA9\xFF!"), 5u);             // after a good 2-byte sequence
  EXPECT_EQ(first_invalid_utf8("\xE2\x82\xAC\x80"), 3u);  // a stray continuation after the euro
  EXPECT_EQ(first_invalid_utf8("x\xE2\x28\xA1"), 1u);     // the lead byte, not the bad byte
  EXPECT_EQ(first_invalid_utf8("ok\xF0\x9F\x98"), 2u);
}

TEST(FirstInvalidUtf8, EdgesOfEachRange) {
  constexpr size_t npos = std::string_view::npos;
  // The smallest and largest code point of each length, and around the surrogates.
  for (const char* ok : {"\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                         "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_EQ(first_invalid_utf8(ok), npos) << ok;
    EXPECT_TRUE(is_valid_utf8(ok));
  }
  // Overlong forms of the values just below, the surrogates' ends, past U+10FFFF.
  for (const char* bad :
       {"\xC1\xBF", "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF", "\xED\xBF\xBF", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\xC2\xC0", "\xE1\x80\xC0", "\xF1\x80\x80\x7F"}) {
    EXPECT_EQ(first_invalid_utf8(bad), 0u) << bad;
    EXPECT_FALSE(is_valid_utf8(bad));
  }
}

}  // namespace
}  // namespace cvae::io
