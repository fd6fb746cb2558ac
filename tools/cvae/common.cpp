#include <fmt/format.h>

#include "commands.h"
#include "cvae/errors.h"
#include "lite/generate_options.h"

namespace cvae::cli {

std::vector<std::string> with_auto(std::vector<std::string> names) {
  names.insert(names.begin(), "auto");
  return names;
}

std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size()) {
      throw ConfigError(
          fmt::format("{} is not a comma-separated list of integers (got '{}')", option, text));
    }
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

void add_decoding(CLI::App& sub, TextDecoding& d) { lite::add_decoding_options(sub, d); }

void DataOptions::add(CLI::App& sub, bool required) {
  auto* opt = sub.add_option(
      "--data", cfg.path,
      "Data: a directory of IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], "
      "optional labels.txt) or of image folders (LABEL/*.png, optionally under train/ and "
      "test/); or a text file: .tsv (label<TAB>text per line) or .csv (header naming the "
      "columns). The test split of a text file named *train* is the *test* file beside it; or a "
      "folder with ratings.csv and movies.csv (item sets, MovieLens's layout)");
  if (required) opt->required();
  sub.add_option(
         "--modality", cfg.modality,
         "auto (items for a folder with ratings.csv and movies.csv, text for .tsv/.csv/.txt "
         "files, else images), or one of the modalities")
      ->capture_default_str()
      ->check(CLI::IsMember(with_auto(modality_names())));
  sub.add_option("--max-tokens", cfg.max_tokens,
                 "Text: positions per text, words + <eos>; longer texts keep their first "
                 "max-tokens - 1 words")
      ->capture_default_str();
  sub.add_option("--min-count", cfg.min_count,
                 "Text: words seen fewer times in the training texts become <unk>")
      ->capture_default_str();
  sub.add_option("--label-column", cfg.label_column, "CSV: the label column's header")
      ->capture_default_str();
  sub.add_option("--text-column", cfg.text_column, "CSV: the text column's header")
      ->capture_default_str();
  sub.add_option("--image-size", image_size,
                 "Image folders: size HxW (default: the first image's size)");
  sub.add_flag("--resize", cfg.resize,
               "Image folders: resize images of other sizes instead of rejecting them");
  sub.add_option("--channels", cfg.channels, "Image folders: 0 = auto, 1 = grayscale, 3 = colour")
      ->capture_default_str();
  sub.add_option("--split-seed", cfg.split_seed,
                 "Item sets: seed of the held-out (validation and test) users")
      ->capture_default_str();
  sub.add_option("--heldout-users", cfg.heldout_users,
                 "Item sets: validation users, and as many test users")
      ->capture_default_str();
  sub.add_flag("--no-genre-rows", no_genre_rows,
               "Item sets: train on each user's items under \"any\" only, not also under "
               "each of their genres (the unconditional model)");
}

DataConfig DataOptions::resolve() const {
  DataConfig c = cfg;
  c.genre_rows = !no_genre_rows;
  if (!image_size.empty()) {
    auto x = image_size.find('x');
    std::vector<int64_t> hw;
    if (x != std::string::npos)
      hw = parse_int_list("--image-size", image_size.substr(0, x) + "," + image_size.substr(x + 1));
    if (hw.size() != 2 || hw[0] < 1 || hw[1] < 1 || hw[0] > 16384 || hw[1] > 16384) {
      throw ConfigError(
          fmt::format("--image-size must be HxW with 1..16384 each (got '{}')", image_size));
    }
    c.image_height = static_cast<int>(hw[0]);
    c.image_width = static_cast<int>(hw[1]);
  }
  c.validate();
  return c;
}

}  // namespace cvae::cli
