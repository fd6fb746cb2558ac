// Labelled text: readers for TSV and CSV files, a word-level tokenizer, a vocabulary and
// fixed-length id sequences. No torch here; the text modality's dataset code builds tensors
// from EncodedText.
//
//   train.tsv:  love<TAB>All you need is love.
//   train.csv:  label,text
//               food,"Eat, drink and be ""merry""."
//
// Every reader error is a DataError of the form "'<file>' line <n>: <what> (<got> vs
// <expected>)", with n the 1-based line number in the file (the line a CSV record starts on).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace cvae::modalities::text {

struct LabelledText {
  std::string label;
  std::string text;
  int64_t line = 0;  // 1-based line number in the file (for CSV, the line the record starts on)
};

struct TextReadOptions {
  std::string label_column = "label";  // CSV: header names of the columns to read
  std::string text_column = "text";
};

// Reads labelled texts, in file order. The format follows the extension:
//  - ".csv" (any case): CSV as in RFC 4180. A header row is required and must name both
//    opt.label_column and opt.text_column (header names are trimmed; the first column of a
//    repeated name is used); other columns are ignored. Fields may be quoted with "...";
//    "" inside quotes is one quote; quoted fields may hold commas and newlines (CRLF inside a
//    quoted field becomes LF). Spaces around a quoted field are ignored; other characters
//    between a closing quote and the next comma or line end are an error. A quote inside an
//    unquoted field is kept as it is. Every record must have as many fields as the header.
//  - anything else: TSV, one example per line, label<TAB>text. The first tab splits; further
//    tabs belong to the text. No quoting.
// Both: a UTF-8 BOM at the start is dropped, a trailing \r on each line is removed (CRLF files
// work), lines holding only whitespace are skipped, and leading/trailing whitespace of label and
// text is trimmed.
// Throws DataError naming the file (and the 1-based line where there is one) when the file is
// missing or unreadable, is not valid UTF-8 (with the byte offset within the line, 0-based), a
// TSV line has no tab, a label or text is empty, the CSV header lacks a column (listing the
// header's columns), a CSV record has the wrong number of fields, a quote is not closed
// (the line it opens on), or the file holds no examples at all.
std::vector<LabelledText> read_labelled_texts(const std::string& path,
                                              const TextReadOptions& opt = {});

// Word-level tokenizer. With lowercase, ASCII letters are lowercased (other bytes are kept).
// A word is a maximal run of ASCII letters, digits and bytes >= 0x80 (so UTF-8 letters stay
// inside words); an apostrophe (') is kept inside a word when it has a word byte on both sides
// ("don't" and "o'clock" are one token). Every other non-space character is a token on its
// own: "Hi, there!" -> "hi" "," "there" "!", "..." -> "." "." ".". ASCII whitespace (space,
// \t, \n, \v, \f, \r) separates tokens and is never part of one.
std::vector<std::string> split_words(const std::string& text, bool lowercase = true);

// Joins tokens back into text with single spaces, except:
//  - no space before , . ! ? ; : ) ] } % and before a closing quote;
//  - no space after ( [ { and after an opening quote.
// Quotes: a token that is exactly " (or exactly ') alternates between opening and closing,
// counted separately for " and ', starting with opening. So join_words(split_words(s)) gives
// s back (up to case) for text with single spaces between words and these punctuation marks
// written the usual way ("He said "hi", then left." round trips); an apostrophe written
// outside a word ("the dogs' bone") counts as a quote and does not. Empty tokens are skipped.
// Special tokens are never passed here.
std::string join_words(const std::vector<std::string>& words);

// Token <-> id map. Ids 0..3 are the special tokens, then words; ids are dense.
class Vocabulary {
 public:
  // Ids of the special tokens "<pad>" "<unk>" "<bos>" "<eos>".
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;

  // Only the four special tokens.
  Vocabulary();
  // From a saved token list (as returned by tokens()). Throws DataError unless tokens[0..3]
  // are exactly "<pad>" "<unk>" "<bos>" "<eos>" and every token is non-empty and unique.
  explicit Vocabulary(std::vector<std::string> tokens);

  // The four specials, then the words seen at least min_count times (min_count >= 1) over all
  // texts, most frequent first, ties broken by the words' byte order (deterministic); at most
  // max_size tokens in total, specials included (0 = no limit, else max_size >= 4). Empty
  // words and words equal to a special token are not added. Throws DataError for min_count < 1,
  // max_size < 0 or 0 < max_size < 4.
  static Vocabulary build(const std::vector<std::vector<std::string>>& tokenized_texts,
                          int64_t min_count, int64_t max_size = 0);

  // The id of word; kUnk when it is not in the vocabulary.
  int64_t id(const std::string& word) const;
  // The token of id; throws DataError when id is not in [0, size()).
  const std::string& token(int64_t id) const;
  // The number of tokens, specials included.
  int64_t size() const;
  // All tokens in id order (what the constructor accepts).
  const std::vector<std::string>& tokens() const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

struct EncodedText {
  std::vector<int64_t> ids;  // exactly max_tokens ids: words, then kEos, then kPad up to max_tokens
  int64_t length = 0;        // number of non-pad ids (words kept + 1 for kEos)
  bool truncated = false;    // true when words were dropped
};

// Tokenizes text with split_words(text, lowercase) and maps the words to ids (kUnk when
// unknown). Truncation rule: at most the first max_tokens - 1 words are kept, then kEos, so
// every sequence ends with kEos; the rest is kPad. An empty text encodes as kEos then padding
// (length 1). Throws DataError when max_tokens < 2.
EncodedText encode_text(const Vocabulary& vocab, const std::string& text, int64_t max_tokens,
                        bool lowercase = true);
// The same for words already split (split_words).
EncodedText encode_words(const Vocabulary& vocab, const std::vector<std::string>& words,
                         int64_t max_tokens);

// Ids back to text: reads ids up to the first kEos or kPad (not included), skips kBos, writes
// kUnk as "<unk>", and joins the tokens with join_words. Throws DataError for an id outside
// the vocabulary.
std::string decode_ids(const Vocabulary& vocab, const std::vector<int64_t>& ids);

}  // namespace cvae::modalities::text
