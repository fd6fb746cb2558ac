#include "modalities/text/tokens.h"

#include "io/labels.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "cvae/errors.h"

namespace fs = std::filesystem;

namespace cvae::modalities::text {
namespace {

const char* const kSpecials[] = {"<pad>", "<unk>", "<bos>", "<eos>"};

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// ASCII letters and digits, and every byte of a multi-byte UTF-8 sequence.
bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && is_space(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

// A short, printable excerpt of a line for error messages.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const char c = s[i];
    out += c == '\t' ? std::string("\\t") : std::string(1, c);
  }
  if (s.size() > kMax) out += "...";
  return fmt::format("\"{}\"", out);
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    throw DataError(
        fmt::format("cannot read '{}': no such file (expected a .tsv or .csv file)", path));
  }
  if (fs::is_directory(st)) {
    throw DataError(
        fmt::format("cannot read '{}': it is a folder (expected a .tsv or .csv file)", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  std::string bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > 0) {
    bytes.resize(static_cast<size_t>(size));
    in.seekg(0, std::ios::beg);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (in.gcount() != size) {
      throw DataError(fmt::format("cannot read '{}': read failed (got {} vs expected {} bytes)",
                                  path, in.gcount(), size));
    }
  }
  return bytes;
}

// Throws when the text is not valid UTF-8, naming the line and the byte offset in it.
void check_utf8(const std::string& path, std::string_view s) {
  const size_t bad = io::first_invalid_utf8(s);
  if (bad == std::string_view::npos) return;
  const int64_t line = std::count(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
  const size_t line_start = line == 0 ? 0 : s.rfind('\n', bad) + 1;
  throw DataError(
      fmt::format("'{}' line {}: invalid UTF-8 at byte offset {} of the line (got byte 0x{:02X} vs "
                  "expected UTF-8 text)",
                  path, line + 1, bad - line_start, static_cast<unsigned char>(s[bad])));
}

// Adds one example after trimming, checking that label and text are not empty.
void add_example(const std::string& path, int64_t line, std::string_view label,
                 std::string_view text, std::vector<LabelledText>* out) {
  label = trim(label);
  text = trim(text);
  if (label.empty()) {
    throw DataError(fmt::format(
        "'{}' line {}: empty label (got \"\" vs expected a non-empty label)", path, line));
  }
  if (text.empty()) {
    throw DataError(fmt::format("'{}' line {}: empty text (got \"\" vs expected a non-empty text)",
                                path, line));
  }
  out->push_back({std::string(label), std::string(text), line});
}

void read_tsv(const std::string& path, std::string_view s, std::vector<LabelledText>* out) {
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      throw DataError(fmt::format("'{}' line {}: no tab (got {} vs expected label<TAB>text)", path,
                                  line_no, excerpt(line)));
    }
    add_example(path, line_no, line.substr(0, tab), line.substr(tab + 1), out);
  }
}

// One CSV record: its fields and the line it starts on.
struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;
};

// An RFC 4180 reader over the whole file, one record at a time.
class CsvReader {
 public:
  CsvReader(const std::string& path, std::string_view s) : path_(path), s_(s) {}

  // Reads the next non-blank record; false at the end of the file.
  bool next(CsvRecord* rec) {
    skip_blank_lines();
    if (pos_ >= s_.size()) return false;
    rec->fields.clear();
    rec->line = line_;
    for (;;) {
      std::string field;
      const bool end_of_record = read_field(&field);
      rec->fields.push_back(std::move(field));
      if (end_of_record) return true;
    }
  }

 private:
  // Skips lines that hold only whitespace, counting lines.
  void skip_blank_lines() {
    while (pos_ < s_.size()) {
      size_t end = s_.find('\n', pos_);
      if (end == std::string_view::npos) end = s_.size();
      if (!is_blank(s_.substr(pos_, end - pos_))) return;
      pos_ = end + 1;
      ++line_;
    }
  }

  // Consumes the line end at pos_ (\n, \r\n, or the end of the file).
  void end_line() {
    if (pos_ < s_.size() && s_[pos_] == '\r') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }

  bool at_line_end() const {
    return pos_ >= s_.size() || s_[pos_] == '\n' ||
           (s_[pos_] == '\r' && (pos_ + 1 >= s_.size() || s_[pos_ + 1] == '\n'));
  }

  // Reads one field into *field; returns true when it ends the record.
  bool read_field(std::string* field) {
    size_t p = pos_;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    if (p < s_.size() && s_[p] == '"') {
      pos_ = p + 1;
      read_quoted(field);
    } else {
      const size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ',' && !at_line_end()) ++pos_;
      field->assign(s_.substr(start, pos_ - start));
    }
    if (pos_ < s_.size() && s_[pos_] == ',') {
      ++pos_;
      return false;
    }
    end_line();
    return true;
  }

  // Reads a quoted field's content (pos_ just after the opening quote) and what follows the
  // closing quote up to the next comma or line end.
  void read_quoted(std::string* field) {
    const int64_t open_line = line_;
    for (;;) {
      const size_t q = s_.find('"', pos_);
      if (q == std::string_view::npos) {
        throw DataError(
            fmt::format("'{}' line {}: unterminated quote (got the end of the file vs expected "
                        "a closing \")",
                        path_, open_line));
      }
      append_content(s_.substr(pos_, q - pos_), field);
      pos_ = q + 1;
      if (pos_ < s_.size() && s_[pos_] == '"') {
        field->push_back('"');
        ++pos_;
        continue;
      }
      break;
    }
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    if (pos_ < s_.size() && s_[pos_] != ',' && !at_line_end()) {
      throw DataError(fmt::format(
          "'{}' line {}: text after a closing quote (got {} vs expected a comma or the line end)",
          path_, line_, excerpt(s_.substr(pos_, s_.find('\n', pos_) - pos_))));
    }
  }

  // Appends quoted content, turning CRLF into LF and counting lines.
  void append_content(std::string_view part, std::string* field) {
    size_t p = 0;
    for (;;) {
      const size_t nl = part.find('\n', p);
      if (nl == std::string_view::npos) {
        field->append(part.substr(p));
        return;
      }
      size_t stop = nl;
      if (stop > p && part[stop - 1] == '\r') --stop;
      field->append(part.substr(p, stop - p));
      field->push_back('\n');
      ++line_;
      p = nl + 1;
    }
  }

  const std::string& path_;
  std::string_view s_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

void read_csv(const std::string& path, std::string_view s, const TextReadOptions& opt,
              std::vector<LabelledText>* out) {
  CsvReader reader(path, s);
  CsvRecord header;
  if (!reader.next(&header)) {
    throw DataError(
        fmt::format("'{}' holds no examples (got an empty file vs expected a header "
                    "row naming '{}' and '{}', then one row per example)",
                    path, opt.label_column, opt.text_column));
  }
  std::vector<std::string> names;
  for (const auto& f : header.fields) names.emplace_back(trim(f));
  auto column = [&](const std::string& name) -> size_t {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string got;
      for (size_t i = 0; i < names.size(); ++i) {
        got += fmt::format("{}'{}'", i > 0 ? ", " : "", names[i]);
      }
      throw DataError(
          fmt::format("'{}' line {}: the header has no column '{}' (got columns {} vs expected "
                      "columns '{}' and '{}')",
                      path, header.line, name, got, opt.label_column, opt.text_column));
    }
    return static_cast<size_t>(it - names.begin());
  };
  const size_t label_col = column(opt.label_column);
  const size_t text_col = column(opt.text_column);

  CsvRecord rec;
  while (reader.next(&rec)) {
    if (rec.fields.size() != names.size()) {
      throw DataError(fmt::format(
          "'{}' line {}: wrong number of fields (got {} vs expected {}, as in the header)", path,
          rec.line, rec.fields.size(), names.size()));
    }
    add_example(path, rec.line, rec.fields[label_col], rec.fields[text_col], out);
  }
}

bool has_csv_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return ext == ".csv";
}

bool is_opening_bracket(const std::string& w) { return w == "(" || w == "[" || w == "{"; }

bool attaches_left(const std::string& w) {
  static const char* const kLeft[] = {",", ".", "!", "?", ";", ":", ")", "]", "}", "%"};
  for (const char* p : kLeft) {
    if (w == p) return true;
  }
  return false;
}

}  // namespace

std::vector<LabelledText> read_labelled_texts(const std::string& path, const TextReadOptions& opt) {
  const std::string bytes = read_file(path);
  std::string_view s(bytes);
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  check_utf8(path, s);
  std::vector<LabelledText> out;
  if (has_csv_extension(path)) {
    read_csv(path, s, opt, &out);
  } else {
    read_tsv(path, s, &out);
  }
  if (out.empty()) {
    throw DataError(
        fmt::format("'{}' holds no examples (got 0 vs expected at least one labelled text)", path));
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text, bool lowercase) {
  std::vector<std::string> words;
  const size_t n = text.size();
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < n) {
    const unsigned char c = at(i);
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (!is_word_byte(c)) {
      words.emplace_back(1, static_cast<char>(c));
      ++i;
      continue;
    }
    std::string w;
    while (i < n) {
      const unsigned char d = at(i);
      if (is_word_byte(d)) {
        w.push_back(static_cast<char>(lowercase && d >= 'A' && d <= 'Z' ? d - 'A' + 'a' : d));
        ++i;
      } else if (d == '\'' && i + 1 < n && is_word_byte(at(i + 1))) {
        w.push_back('\'');  // a word byte precedes it: w is not empty
        ++i;
      } else {
        break;
      }
    }
    words.push_back(std::move(w));
  }
  return words;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  bool open_double = false, open_single = false;  // inside "..." / '...'
  bool glue_next = true;                          // no space before the next token
  for (const auto& w : words) {
    if (w.empty()) continue;
    bool glue_left = attaches_left(w);
    bool glue_right = is_opening_bracket(w);
    bool* open = w == "\"" ? &open_double : w == "'" ? &open_single : nullptr;
    if (open != nullptr) {
      if (*open) {
        glue_left = true;  // closing quote
      } else {
        glue_right = true;  // opening quote
      }
      *open = !*open;
    }
    if (!glue_next && !glue_left) out.push_back(' ');
    out += w;
    glue_next = glue_right;
  }
  return out;
}

Vocabulary::Vocabulary()
    : Vocabulary(std::vector<std::string>(std::begin(kSpecials), std::end(kSpecials))) {}

Vocabulary::Vocabulary(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  if (tokens_.size() < 4) {
    throw DataError(
        fmt::format("vocabulary has {} tokens (got {} vs expected at least the 4 special tokens)",
                    tokens_.size(), tokens_.size()));
  }
  for (size_t i = 0; i < 4; ++i) {
    if (tokens_[i] != kSpecials[i]) {
      throw DataError(fmt::format("vocabulary token {} is not special (got '{}' vs expected '{}')",
                                  i, tokens_[i], kSpecials[i]));
    }
  }
  ids_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].empty()) {
      throw DataError(
          fmt::format("vocabulary token {} is empty (got \"\" vs expected a non-empty token)", i));
    }
    const auto [it, inserted] = ids_.emplace(tokens_[i], static_cast<int64_t>(i));
    if (!inserted) {
      throw DataError(fmt::format(
          "vocabulary token {} repeats token {} (got '{}' twice vs expected unique tokens)", i,
          it->second, tokens_[i]));
    }
  }
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& tokenized_texts,
                             int64_t min_count, int64_t max_size) {
  if (min_count < 1) {
    throw DataError(
        fmt::format("vocabulary min_count is {} (got {} vs expected >= 1)", min_count, min_count));
  }
  if (max_size < 0 || (max_size > 0 && max_size < 4)) {
    throw DataError(
        fmt::format("vocabulary max_size is {} (got {} vs expected 0 for no limit, or >= 4)",
                    max_size, max_size));
  }
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& text : tokenized_texts) {
    for (const auto& w : text) ++counts[w];
  }
  std::vector<std::pair<std::string, int64_t>> kept;
  kept.reserve(counts.size());
  for (auto& [w, n] : counts) {
    if (n < min_count || w.empty()) continue;
    if (std::find(std::begin(kSpecials), std::end(kSpecials), w) != std::end(kSpecials)) continue;
    kept.emplace_back(w, n);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> tokens(std::begin(kSpecials), std::end(kSpecials));
  const size_t limit = max_size == 0 ? tokens.size() + kept.size() : static_cast<size_t>(max_size);
  for (auto& [w, n] : kept) {
    if (tokens.size() >= limit) break;
    tokens.push_back(std::move(w));
  }
  return Vocabulary(std::move(tokens));
}

int64_t Vocabulary::id(const std::string& word) const {
  const auto it = ids_.find(word);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocabulary::token(int64_t id) const {
  if (id < 0 || id >= size()) {
    throw DataError(
        fmt::format("token id {} is out of range (got {} vs expected 0..{})", id, id, size() - 1));
  }
  return tokens_[static_cast<size_t>(id)];
}

int64_t Vocabulary::size() const { return static_cast<int64_t>(tokens_.size()); }

const std::vector<std::string>& Vocabulary::tokens() const { return tokens_; }

EncodedText encode_text(const Vocabulary& vocab, const std::string& text, int64_t max_tokens,
                        bool lowercase) {
  return encode_words(vocab, split_words(text, lowercase), max_tokens);
}

EncodedText encode_words(const Vocabulary& vocab, const std::vector<std::string>& words,
                         int64_t max_tokens) {
  if (max_tokens < 2) {
    throw DataError(fmt::format(
        "max_tokens is {} (got {} vs expected >= 2: at least one word and the end token)",
        max_tokens, max_tokens));
  }
  const size_t keep = std::min(words.size(), static_cast<size_t>(max_tokens - 1));
  EncodedText e;
  e.ids.assign(static_cast<size_t>(max_tokens), Vocabulary::kPad);
  for (size_t i = 0; i < keep; ++i) e.ids[i] = vocab.id(words[i]);
  e.ids[keep] = Vocabulary::kEos;
  e.length = static_cast<int64_t>(keep) + 1;
  e.truncated = words.size() > keep;
  return e;
}

std::string decode_ids(const Vocabulary& vocab, const std::vector<int64_t>& ids) {
  std::vector<std::string> words;
  for (int64_t id : ids) {
    if (id == Vocabulary::kEos || id == Vocabulary::kPad) break;
    if (id == Vocabulary::kBos) continue;
    words.push_back(vocab.token(id));
  }
  return join_words(words);
}

}  // namespace cvae::modalities::text
