// modalities/items/lite/catalogue.cpp and recommend_output.cpp: the catalogue a
// model stores round-trips and rejects malformed entries; recommend's TSV lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cvae/errors.h"
#include "modalities/items/lite/catalogue.h"
#include "modalities/items/lite/recommend_output.h"
#include "support/expect_error.h"

namespace cvae::modalities::items {
namespace {

TEST(ItemsCatalogue, RoundTripsThroughItsEntries) {
  Catalogue c;
  c.ids = {3, 17, 200};
  c.titles = {"Heat", "Tab\there, \"quoted\"", ""};
  c.genres = {{"Action", "Crime"}, {}, {"Comedy"}};
  const auto entries = catalogue_entries(c);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], "3\tHeat\tAction|Crime");
  EXPECT_EQ(entries[1], "17\tTab here, \"quoted\"\t");  // a tab in a title becomes a space
  const Catalogue back = parse_catalogue(entries, "m.cvae");
  EXPECT_EQ(back.ids, c.ids);
  EXPECT_EQ(back.titles[1], "Tab here, \"quoted\"");
  EXPECT_EQ(back.genres, c.genres);
  EXPECT_EQ(back.column_of(17), 1);
  EXPECT_EQ(back.column_of(18), -1);
  EXPECT_EQ(back.column_of(1), -1);
  EXPECT_EQ(genre_labels(back), (std::vector<std::string>{"any", "Action", "Comedy", "Crime"}));
}

TEST(ItemsCatalogue, MalformedEntriesAreNamed) {
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"x\tA\tB"},
                                              {"5\tno genres field"},
                                              {"5\ta\t", "5\tb\t"},
                                              {"-2\ta\t"},
                                              {"7\ta\t", "6\tb\t"}}) {
    const std::string msg = testing::error_of([&] { parse_catalogue(bad, "m.cvae"); });
    EXPECT_NE(msg.find("m.cvae: catalogue entry"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ids ascending"), std::string::npos) << msg;
  }
}

TEST(ItemsRecommendOutput, WritesOneTsvLinePerRecommendation) {
  std::vector<Recommendation> rows = {{7, 1, 42, 0.125, "Alien"}, {7, 2, 3, 1.0 / 3, "A\tB"}};
  EXPECT_EQ(recommendations_tsv(rows), "7\t1\t42\t0.125\tAlien\n7\t2\t3\t0.333333\tA B\n");
  EXPECT_EQ(recommendations_tsv({}), "");
}

}  // namespace
}  // namespace cvae::modalities::items
