#include <fmt/format.h>

#include "commands.h"
#include "cvae/api.h"

namespace cvae::cli {

void add_recommend(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "recommend", "Item-set models: the items each user of a history file would like next");
  auto r = std::make_shared<RecommendRequest>();
  sub->add_option("--model", r->model, "Model file (trained on ratings.csv and movies.csv)")
      ->required();
  sub->add_option("--history", r->history,
                  "CSV with a header naming userId and movieId, optionally rating (then only "
                  "ratings >= 3.5 count as liked): any number of users; items the model never "
                  "saw are ignored; no history item is recommended")
      ->required();
  sub->add_option("--top", r->top, "Items per user")->capture_default_str();
  sub->add_option("--label", r->label,
                  "Only items of this genre, as genre=G (or G); default: any item");
  sub->add_option("--out", r->out,
                  "Also write the recommendations to this TSV file "
                  "(userId<TAB>rank<TAB>movieId<TAB>score<TAB>title)");
  sub->add_option("--threads", r->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->callback([r] {
    const RecommendResult res = recommend(*r);
    if (res.unknown_items > 0) {
      fmt::print(stderr,
                 "warning: {} of the {} history rows name items the model never saw (ignored)\n",
                 res.unknown_items, res.history_items);
    }
    fmt::print("{}", res.tsv);
    for (const auto& f : res.files) fmt::print(stderr, "wrote {}\n", f);
  });
}

}  // namespace cvae::cli
