#include "modalities/text/text_data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "data/dataset.h"
#include "io/labels.h"
#include "modalities/text/tokens.h"

namespace fs = std::filesystem;

namespace cvae::modalities::text {
namespace {

bool is_regular(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_letter(char ch) { return std::isalpha(static_cast<unsigned char>(ch)) != 0; }

// The file of a split. "test" of a file whose name holds the word "train" (not
// inside another word: train.tsv, fortunes_train.csv, train-2.tsv) is the file
// with "test" in its place, which must exist; every other case is the file itself.
std::string split_file(const std::string& path, const std::string& split) {
  if (split != "test") return path;
  const fs::path p(path);
  const std::string name = p.filename().string();
  size_t pos = std::string::npos;
  for (size_t at = name.find("train"); at != std::string::npos; at = name.find("train", at + 1)) {
    const bool left = at == 0 || !is_letter(name[at - 1]);
    const bool right = at + 5 >= name.size() || !is_letter(name[at + 5]);
    if (left && right) pos = at;
  }
  if (pos == std::string::npos) return path;
  std::string test_name = name;
  test_name.replace(pos, 5, "test");
  const fs::path test = p.parent_path() / test_name;
  if (!is_regular(test)) {
    throw DataError(fmt::format(
        "'{}' has no test split (expected the file '{}' beside it; or pass the test file as "
        "--data)",
        path, test.string()));
  }
  return test.string();
}

// Token ids of texts already split into words: (N, T) int64 (tokens.h's
// truncation rule).
torch::Tensor ids_tensor(const Vocabulary& vocab,
                         const std::vector<std::vector<std::string>>& words, int64_t t) {
  auto x = torch::empty({static_cast<int64_t>(words.size()), t}, torch::kInt64);
  int64_t* p = x.data_ptr<int64_t>();
  for (const auto& w : words) {
    const EncodedText e = encode_words(vocab, w, t);
    p = std::copy(e.ids.begin(), e.ids.end(), p);
  }
  return x;
}

}  // namespace

bool is_text_file(const DataConfig& cfg) {
  if (!is_regular(cfg.path)) return false;
  std::string ext = fs::path(cfg.path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".tsv" || ext == ".csv" || ext == ".txt";
}

data::Dataset load_text_dataset(const DataConfig& cfg, const std::string& split) {
  if (!is_regular(cfg.path)) {
    throw DataError(fmt::format(
        "text data '{}' is not a file (expected a .tsv file of label<TAB>text lines or a .csv "
        "file with a header)",
        cfg.path));
  }
  const std::string file = split_file(cfg.path, split);
  TextReadOptions opt;
  opt.label_column = cfg.label_column;
  opt.text_column = cfg.text_column;
  const std::vector<LabelledText> rows = read_labelled_texts(file, opt);

  // Labels in sorted order: the same set gives the same indices in every file.
  std::set<std::string> label_set;
  for (const auto& r : rows) {
    // Labels are addressed by name on the command line ("a,b") and written to TSV.
    if (r.label.find_first_of(",\t\n\r") != std::string::npos) {
      throw DataError(fmt::format(
          "'{}' line {}: label '{}' holds a comma, tab or line break (expected a plain name)", file,
          r.line, r.label));
    }
    label_set.insert(r.label);
  }
  std::vector<std::string> labels(label_set.begin(), label_set.end());

  std::vector<std::vector<std::string>> words;  // each text split once
  words.reserve(rows.size());
  int64_t longest = 0;
  for (const auto& r : rows) {
    words.push_back(split_words(r.text, true));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(words.back().size()));
  }
  const bool build = cfg.vocabulary.empty();
  const Vocabulary vocab =
      build ? Vocabulary::build(words, cfg.min_count) : Vocabulary(cfg.vocabulary);
  const int64_t t = build ? std::min<int64_t>(cfg.max_tokens, longest + 1) : cfg.max_tokens;
  data::Dataset d;
  d.source = file;
  d.conditions = {ConditionSpec{"label", "categorical", labels}};
  d.vocabulary = vocab.tokens();
  d.x = ids_tensor(vocab, words, t);
  d.y = torch::empty({static_cast<int64_t>(rows.size()), 1}, torch::kInt64);
  auto ya = d.y.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    ya[static_cast<int64_t>(i)][0] =
        std::lower_bound(labels.begin(), labels.end(), rows[i].label) - labels.begin();
  }
  return d;
}

torch::Tensor encode_texts(const std::vector<std::string>& vocabulary,
                           const std::vector<std::string>& texts, int64_t t) {
  std::vector<std::vector<std::string>> words;
  words.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!io::is_valid_utf8(texts[i])) {
      throw DataError(fmt::format("text {} is not valid UTF-8 (expected UTF-8 text)", i + 1));
    }
    words.push_back(split_words(texts[i], true));
  }
  return ids_tensor(Vocabulary(vocabulary), words, t);
}

std::vector<std::string> decode_texts(const std::vector<std::string>& vocabulary,
                                      const torch::Tensor& ids) {
  const Vocabulary vocab(vocabulary);
  auto c = ids.to(torch::kInt64).contiguous();
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(c.size(0)));
  const int64_t* p = c.data_ptr<int64_t>();
  const int64_t t = c.size(1);
  for (int64_t i = 0; i < c.size(0); ++i) {
    out.push_back(decode_ids(vocab, std::vector<int64_t>(p + i * t, p + (i + 1) * t)));
  }
  return out;
}

namespace {

std::vector<uint64_t> row_hashes(const torch::Tensor& ids) {
  auto c = ids.to(torch::kInt64).contiguous();
  const int64_t n = c.size(0), t = c.size(1);
  const int64_t* p = c.data_ptr<int64_t>();
  std::vector<uint64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = 14695981039346656037ULL;  // FNV-1a offset basis
    for (int64_t j = 0; j < t; ++j) {
      const int64_t id = p[i * t + j];
      if (id == Vocabulary::kEos || id == Vocabulary::kPad) break;
      for (int k = 0; k < 8; ++k) {
        h ^= static_cast<uint64_t>(id >> (8 * k)) & 0xffu;
        h *= 1099511628211ULL;  // FNV prime
      }
    }
    out[static_cast<size_t>(i)] = h;
  }
  return out;
}

}  // namespace

std::string sequence_hashes_bytes(const torch::Tensor& ids) {
  auto h = row_hashes(ids);
  std::sort(h.begin(), h.end());
  h.erase(std::unique(h.begin(), h.end()), h.end());
  std::string bytes;
  bytes.reserve(h.size() * 8);
  for (uint64_t v : h) {
    for (int k = 0; k < 8; ++k) bytes.push_back(static_cast<char>((v >> (8 * k)) & 0xffu));
  }
  return bytes;
}

std::vector<bool> sequences_in(const std::string& hashes_bytes, const torch::Tensor& ids) {
  std::vector<uint64_t> known(hashes_bytes.size() / 8);
  for (size_t i = 0; i < known.size(); ++i) {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(hashes_bytes[i * 8 + k])) << (8 * k);
    known[i] = v;
  }
  std::vector<bool> out;
  for (uint64_t h : row_hashes(ids))
    out.push_back(std::binary_search(known.begin(), known.end(), h));
  return out;
}

}  // namespace cvae::modalities::text
