// Labelled text: TSV/CSV readers and their errors, the tokenizer, the vocabulary and encoding.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "cvae/errors.h"
#include "io/labels.h"
#include "modalities/text/tokens.h"
#include "support/expect_error.h"
#include "support/tiny_data.h"

using cvae::io::is_valid_utf8;  // label names share the check
using cvae::modalities::text::decode_ids;
using cvae::modalities::text::encode_text;
using cvae::modalities::text::EncodedText;
using cvae::modalities::text::join_words;
using cvae::modalities::text::LabelledText;
using cvae::modalities::text::read_labelled_texts;
using cvae::modalities::text::split_words;
using cvae::modalities::text::TextReadOptions;
using cvae::modalities::text::Vocabulary;
using cvae::testing::error_of;
using Words = std::vector<std::string>;

namespace {

// A fresh folder for one test, removed afterwards (tests/support).
struct TempDir : cvae::testing::TempDir {
  TempDir() : cvae::testing::TempDir("cvae-text") {}
};

// Writes bytes to dir/name and returns the path.
std::string write_file(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << path;
  return path;
}

// The DataError message of reading `bytes` as the file `name`.
std::string read_error(const std::string& name, const std::string& bytes, std::string* path,
                       const TextReadOptions& opt = {}) {
  TempDir dir;
  *path = write_file(dir, name, bytes);
  return error_of<cvae::DataError>([&] { read_labelled_texts(*path, opt); });
}

Words labels_of(const std::vector<LabelledText>& v) {
  Words out;
  for (const auto& t : v) out.push_back(t.label);
  return out;
}
Words texts_of(const std::vector<LabelledText>& v) {
  Words out;
  for (const auto& t : v) out.push_back(t.text);
  return out;
}
std::vector<int64_t> lines_of(const std::vector<LabelledText>& v) {
  std::vector<int64_t> out;
  for (const auto& t : v) out.push_back(t.line);
  return out;
}

// Words "w0".."w{n-1}", word wi appearing counts[i] times, spread over a few texts.
std::vector<Words> texts_with_counts(const std::vector<int>& counts) {
  std::vector<Words> texts(3);
  for (size_t i = 0; i < counts.size(); ++i) {
    for (int k = 0; k < counts[i]; ++k)
      texts[static_cast<size_t>(k % 3)].push_back("w" + std::to_string(i));
  }
  return texts;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TSV

TEST(TextReadTest, TsvLabelsTextsAndLineNumbers) {
  TempDir dir;
  const std::string path = write_file(dir, "train.tsv",
                                      "food\tEat your greens.\n"
                                      "love\tAll you need is love\n"
                                      "work\tNine to five\n");
  const auto v = read_labelled_texts(path);
  EXPECT_EQ(labels_of(v), (Words{"food", "love", "work"}));
  EXPECT_EQ(texts_of(v), (Words{"Eat your greens.", "All you need is love", "Nine to five"}));
  EXPECT_EQ(lines_of(v), (std::vector<int64_t>{1, 2, 3}));
}

TEST(TextReadTest, TsvBomCrlfBlankLinesExtraTabsAndTrimming) {
  TempDir dir;
  const std::string path = write_file(dir, "mixed.txt",
                                      "\xEF\xBB\xBF"
                                      "art\tA picture\r\n"
                                      "\r\n"
                                      "   \t  \n"
                                      "  science \t  a\tb\tc  \r\n"
                                      "\n"
                                      "food\tlast line, no newline");
  const auto v = read_labelled_texts(path);
  EXPECT_EQ(labels_of(v), (Words{"art", "science", "food"}));
  EXPECT_EQ(texts_of(v), (Words{"A picture", "a\tb\tc", "last line, no newline"}));
  EXPECT_EQ(lines_of(v), (std::vector<int64_t>{1, 4, 6}));
}

TEST(TextReadTest, TsvKeepsUtf8AndQuotesAsText) {
  TempDir dir;
  const std::string path = write_file(dir, "u.tsv",
                                      "caf\xC3\xA9\t\"Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                                      "e\", she said\n");
  const auto v = read_labelled_texts(path);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].label, "caf\xC3\xA9");
  EXPECT_EQ(v[0].text,
            "\"Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
            "e\", she said");
}

TEST(TextReadTest, TsvLineWithoutTab) {
  std::string path;
  const std::string msg = read_error("a.tsv", "a\tone\n\nno tab here\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 3");
  EXPECT_CONTAINS(msg, "no tab");
  EXPECT_CONTAINS(msg, "no tab here");
}

TEST(TextReadTest, TsvEmptyLabelOrText) {
  std::string path;
  std::string msg = read_error("a.tsv", "a\tone\n  \ttext\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 2");
  EXPECT_CONTAINS(msg, "empty label");
  msg = read_error("a.tsv", "a\tone\nb\tx\nc\t \r\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 3");
  EXPECT_CONTAINS(msg, "empty text");
}

TEST(TextReadTest, InvalidUtf8NamesLineAndByteOffset) {
  std::string path;
  // Line 2: "b\tab" then a lone continuation byte at offset 4.
  std::string msg = read_error("a.tsv", "a\tfine\nb\tab\x80z\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 2");
  EXPECT_CONTAINS(msg, "invalid UTF-8");
  EXPECT_CONTAINS(msg, "byte offset 4");
  // Truncated sequence at the end of a line after a BOM (offsets exclude the BOM).
  msg = read_error("a.tsv", "\xEF\xBB\xBFx\ty\xC3\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 1");
  EXPECT_CONTAINS(msg, "byte offset 3");
  // In a CSV file too.
  msg = read_error("a.csv", "label,text\nok,fine\nok,\"two\nlin\xFF\"\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 4");
  EXPECT_CONTAINS(msg, "byte offset 3");
}

TEST(TextReadTest, EmptyFileAndBlankOnlyFile) {
  std::string path;
  for (const char* name : {"e.tsv", "e.csv"}) {
    for (const char* bytes : {"", "\n \r\n\t\n", "\xEF\xBB\xBF"}) {
      const std::string msg = read_error(name, bytes, &path);
      EXPECT_CONTAINS(msg, "'" + path + "'");
      EXPECT_CONTAINS(msg, "no examples");
    }
  }
  const std::string msg = read_error("h.csv", "label,text\n\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "'");
  EXPECT_CONTAINS(msg, "no examples");
}

TEST(TextReadTest, MissingFileOrFolder) {
  TempDir dir;
  const std::string path = dir.file("nope.tsv");
  std::string msg = error_of<cvae::DataError>([&] { read_labelled_texts(path); });
  EXPECT_CONTAINS(msg, "'" + path + "'");
  EXPECT_CONTAINS(msg, "no such file");
  msg = error_of<cvae::DataError>([&] { read_labelled_texts(dir.path()); });
  EXPECT_CONTAINS(msg, "'" + dir.path() + "'");
}

// Many lines in both formats read alike (speed is measured by benchmarks, not here).
TEST(TextReadTest, ReadsThousandsOfLines) {
  TempDir dir;
  std::string tsv, csv = "text,label\n";
  for (int i = 0; i < 5000; ++i) {
    const std::string text = "entry number " + std::to_string(i) + ", with a few more words here";
    tsv += "topic" + std::to_string(i % 8) + "\t" + text + "\n";
    csv += "\"" + text + "\",topic" + std::to_string(i % 8) + "\n";
  }
  const std::string tsv_path = write_file(dir, "big.tsv", tsv);
  const std::string csv_path = write_file(dir, "big.csv", csv);
  const auto a = read_labelled_texts(tsv_path);
  const auto b = read_labelled_texts(csv_path);
  ASSERT_EQ(a.size(), 5000u);
  ASSERT_EQ(b.size(), 5000u);
  EXPECT_EQ(a[4999].text, b[4999].text);
  EXPECT_EQ(b[4999].label, "topic7");
  EXPECT_EQ(b[4999].line, 5001);
}

// ---------------------------------------------------------------------------------------------
// CSV

TEST(TextReadTest, CsvQuotesCommasNewlinesAndEscapedQuotes) {
  TempDir dir;
  const std::string path = write_file(dir, "t.CSV",
                                      "\xEF\xBB\xBF"
                                      "id,text,label\r\n"
                                      "1,plain text,art\r\n"
                                      "2,\"a, b and \"\"c\"\"\",food\r\n"
                                      "\r\n"
                                      "3,\"two\r\nlines\",love\r\n"
                                      "4, \"  spaced \" , work \r\n"
                                      "5,say \"hi\" twice,art\r\n"
                                      "6,\"\"\"quoted\"\"\",x");
  const auto v = read_labelled_texts(path);
  EXPECT_EQ(labels_of(v), (Words{"art", "food", "love", "work", "art", "x"}));
  EXPECT_EQ(texts_of(v), (Words{"plain text", "a, b and \"c\"", "two\nlines", "spaced",
                                "say \"hi\" twice", "\"quoted\""}));
  EXPECT_EQ(lines_of(v), (std::vector<int64_t>{2, 3, 5, 7, 8, 9}));
}

TEST(TextReadTest, CsvCustomColumnNames) {
  TempDir dir;
  const std::string path = write_file(dir, "t.csv",
                                      " sentence , topic,extra\n"
                                      "hello there,greeting,1\n"
                                      "\"goodbye, then\",farewell,2\n");
  TextReadOptions opt;
  opt.label_column = "topic";
  opt.text_column = "sentence";
  const auto v = read_labelled_texts(path, opt);
  EXPECT_EQ(labels_of(v), (Words{"greeting", "farewell"}));
  EXPECT_EQ(texts_of(v), (Words{"hello there", "goodbye, then"}));
  // The default column names are not in that header.
  const std::string msg = error_of<cvae::DataError>([&] { read_labelled_texts(path); });
  EXPECT_CONTAINS(msg, "'" + path + "' line 1");
  EXPECT_CONTAINS(msg, "no column 'label'");
  EXPECT_CONTAINS(msg, "'sentence', 'topic', 'extra'");
}

TEST(TextReadTest, CsvMissingColumnInHeader) {
  std::string path;
  const std::string msg = read_error("t.csv", "\n\nlabel,body\na,b\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 3");
  EXPECT_CONTAINS(msg, "no column 'text'");
  EXPECT_CONTAINS(msg, "'label', 'body'");
}

TEST(TextReadTest, CsvWrongFieldCount) {
  std::string path;
  std::string msg = read_error("t.csv", "label,text\na,\"one\nmore\"\nb,two,three\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 4");
  EXPECT_CONTAINS(msg, "wrong number of fields (got 3 vs expected 2");
  msg = read_error("t.csv", "label,text\nonly one field\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 2");
  EXPECT_CONTAINS(msg, "got 1 vs expected 2");
}

TEST(TextReadTest, CsvUnterminatedQuote) {
  std::string path;
  const std::string msg =
      read_error("t.csv", "label,text\na,fine\nb,\"starts here\nand never\nends\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 3");
  EXPECT_CONTAINS(msg, "unterminated quote");
}

TEST(TextReadTest, CsvTextAfterClosingQuote) {
  std::string path;
  const std::string msg = read_error("t.csv", "label,text\na,\"quoted\"tail\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 2");
  EXPECT_CONTAINS(msg, "closing quote");
}

TEST(TextReadTest, CsvEmptyLabelOrText) {
  std::string path;
  std::string msg = read_error("t.csv", "label,text\n\"\",x\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 2");
  EXPECT_CONTAINS(msg, "empty label");
  msg = read_error("t.csv", "label,text\na,x\nb,\"  \"\n", &path);
  EXPECT_CONTAINS(msg, "'" + path + "' line 3");
  EXPECT_CONTAINS(msg, "empty text");
}

// ---------------------------------------------------------------------------------------------
// UTF-8

TEST(TextUtf8Test, ValidAndInvalid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));                                      // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xFF"));                                      // bad lead byte
  EXPECT_FALSE(is_valid_utf8("ab\xC3"));                                    // truncated
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));                                  // truncated
  EXPECT_FALSE(is_valid_utf8("\xC3x"));                                     // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xE2\x28\xA1"));                              // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));                                  // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));                              // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));                              // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));                          // > U+10FFFF
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

TEST(TextTokenizeTest, PunctuationIsSplitOff) {
  EXPECT_EQ(split_words("Hi, there!"), (Words{"hi", ",", "there", "!"}));
  EXPECT_EQ(split_words("  (a+b)=c...  "),
            (Words{"(", "a", "+", "b", ")", "=", "c", ".", ".", "."}));
  EXPECT_EQ(split_words("say \"hi\"\tnow\n-- me"),
            (Words{"say", "\"", "hi", "\"", "now", "-", "-", "me"}));
  EXPECT_EQ(split_words("R2D2 is 100% real"), (Words{"r2d2", "is", "100", "%", "real"}));
  EXPECT_TRUE(split_words("").empty());
  EXPECT_TRUE(split_words(" \t\r\n ").empty());
}

TEST(TextTokenizeTest, Lowercase) {
  EXPECT_EQ(split_words("Hello WORLD"), (Words{"hello", "world"}));
  EXPECT_EQ(split_words("Hello WORLD", false), (Words{"Hello", "WORLD"}));
  // Only ASCII is lowercased: "É" (C3 89) stays as it is.
  EXPECT_EQ(split_words("\xC3\x89T\xC3\x89"), (Words{"\xC3\x89t\xC3\x89"}));
}

TEST(TextTokenizeTest, Apostrophes) {
  EXPECT_EQ(split_words("Don't stop, it's 5 o'clock"),
            (Words{"don't", "stop", ",", "it's", "5", "o'clock"}));
  EXPECT_EQ(split_words("rock'n'roll"), (Words{"rock'n'roll"}));
  EXPECT_EQ(split_words("'quoted' dogs' x''y"),
            (Words{"'", "quoted", "'", "dogs", "'", "x", "'", "'", "y"}));
  EXPECT_EQ(split_words("90's"), (Words{"90's"}));
}

TEST(TextTokenizeTest, Utf8StaysInsideWords) {
  // "Crème brûlée, naïve!" and a CJK word next to punctuation.
  EXPECT_EQ(split_words("Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                        "e, na\xC3\xAFve!"),
            (Words{"cr\xC3\xA8me",
                   "br\xC3\xBBl\xC3\xA9"
                   "e",
                   ",", "na\xC3\xAFve", "!"}));
  EXPECT_EQ(split_words("\xE6\x97\xA5\xE6\x9C\xAC.x"),
            (Words{"\xE6\x97\xA5\xE6\x9C\xAC", ".", "x"}));
  EXPECT_EQ(split_words("caf\xC3\xA9's"), (Words{"caf\xC3\xA9's"}));
}

TEST(TextTokenizeTest, JoinWordsSpacing) {
  EXPECT_EQ(join_words({"hi", ",", "there", "!"}), "hi, there!");
  EXPECT_EQ(join_words({"a", "(", "b", ")", "[", "c", "]", "{", "d", "}", "."}), "a (b) [c] {d}.");
  EXPECT_EQ(join_words({"x", ";", "y", ":", "50", "%", "?"}), "x; y: 50%?");
  EXPECT_EQ(join_words({"he", "said", "\"", "hi", "\"", ",", "then", "\"", "bye", "\""}),
            "he said \"hi\", then \"bye\"");
  EXPECT_EQ(join_words({"'", "ok", "'", "and", "\"", "no", "'", "yes", "'", "\""}),
            "'ok' and \"no 'yes'\"");
  EXPECT_EQ(join_words({"(", "\"", "a", "\"", ")"}), "(\"a\")");
  EXPECT_EQ(join_words({"a", "-", "b", "", "c"}), "a - b c");
  EXPECT_EQ(join_words({}), "");
  EXPECT_EQ(join_words({","}), ",");
}

TEST(TextTokenizeTest, RoundTripSimpleSentences) {
  for (const std::string s : {
           "hello, world!",
           "don't panic; it's only 42.",
           "a list (of things) [and more] {braces}: done?",
           "he said \"stop\", and she said 'no'.",
           "prices rose 5% in 2023...",
           "cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
           "e, s'il vous pla\xC3\xAEt.",
       }) {
    EXPECT_EQ(join_words(split_words(s)), s);
  }
  EXPECT_EQ(join_words(split_words("Mixed Case, Kept.", false)), "Mixed Case, Kept.");
  EXPECT_EQ(join_words(split_words("Mixed Case, Kept.")), "mixed case, kept.");
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

TEST(TextVocabularyTest, DefaultHasOnlySpecials) {
  const Vocabulary v;
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.tokens(), (Words{"<pad>", "<unk>", "<bos>", "<eos>"}));
  EXPECT_EQ(v.token(Vocabulary::kPad), "<pad>");
  EXPECT_EQ(v.token(Vocabulary::kUnk), "<unk>");
  EXPECT_EQ(v.token(Vocabulary::kBos), "<bos>");
  EXPECT_EQ(v.token(Vocabulary::kEos), "<eos>");
  EXPECT_EQ(v.id("<eos>"), Vocabulary::kEos);
  EXPECT_EQ(v.id("anything"), Vocabulary::kUnk);
}

TEST(TextVocabularyTest, BuildOrdersByCountThenBytes) {
  // w0:1, w1:3, w2:2, w3:3, w4:5, w5:2
  const auto texts = texts_with_counts({1, 3, 2, 3, 5, 2});
  const Vocabulary v = Vocabulary::build(texts, 1);
  EXPECT_EQ(v.tokens(),
            (Words{"<pad>", "<unk>", "<bos>", "<eos>", "w4", "w1", "w3", "w2", "w5", "w0"}));
  for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(v.id(v.token(i)), i);
  // Ties in byte order, whatever the order of first appearance.
  const Vocabulary t = Vocabulary::build({{"b", "B", "a", "\xC3\xA9", "A"}}, 1);
  EXPECT_EQ(t.tokens(),
            (Words{"<pad>", "<unk>", "<bos>", "<eos>", "A", "B", "a", "b", "\xC3\xA9"}));
}

TEST(TextVocabularyTest, BuildMinCountAndMaxSize) {
  const auto texts = texts_with_counts({1, 3, 2, 3, 5, 2});
  EXPECT_EQ(Vocabulary::build(texts, 3).tokens(),
            (Words{"<pad>", "<unk>", "<bos>", "<eos>", "w4", "w1", "w3"}));
  EXPECT_EQ(Vocabulary::build(texts, 6).size(), 4);
  EXPECT_EQ(Vocabulary::build(texts, 1, 6).tokens(),
            (Words{"<pad>", "<unk>", "<bos>", "<eos>", "w4", "w1"}));
  EXPECT_EQ(Vocabulary::build(texts, 1, 4).size(), 4);
  EXPECT_EQ(Vocabulary::build(texts, 2, 100).size(), 9);
  const Vocabulary v = Vocabulary::build(texts, 3);
  EXPECT_EQ(v.id("w2"), Vocabulary::kUnk);
  EXPECT_EQ(v.id("w4"), 4);
  EXPECT_EQ(v.id(""), Vocabulary::kUnk);
  // Special tokens in the texts are not added again.
  EXPECT_EQ(Vocabulary::build({{"<unk>", "<eos>", "x"}}, 1).size(), 5);
  EXPECT_CONTAINS(error_of([&] { Vocabulary::build(texts, 0); }), "min_count");
  EXPECT_CONTAINS(error_of([&] { Vocabulary::build(texts, 1, 3); }), "max_size");
  EXPECT_CONTAINS(error_of([&] { Vocabulary::build(texts, 1, -1); }), "max_size");
}

TEST(TextVocabularyTest, ConstructorRoundTripsAndRejectsBadLists) {
  const Vocabulary built = Vocabulary::build({{"b", "a", "b"}}, 1);
  const Vocabulary copy(built.tokens());
  EXPECT_EQ(copy.tokens(), built.tokens());
  EXPECT_EQ(copy.id("b"), 4);
  EXPECT_EQ(copy.id("a"), 5);

  const Words specials = {"<pad>", "<unk>", "<bos>", "<eos>"};
  EXPECT_CONTAINS(error_of([&] { Vocabulary({"<pad>", "<unk>", "<bos>"}); }), "at least");
  EXPECT_CONTAINS(error_of([&] {
                    Vocabulary({"<pad>", "<unk>", "<eos>", "<bos>", "x"});
                  }),
                  "got '<eos>' vs expected '<bos>'");
  EXPECT_CONTAINS(error_of([&] { Vocabulary({"<unk>", "<pad>", "<bos>", "<eos>"}); }), "token 0");
  Words dup = specials;
  dup.insert(dup.end(), {"x", "y", "x"});
  EXPECT_CONTAINS(error_of([&] { Vocabulary{dup}; }), "'x' twice");
  Words special_again = specials;
  special_again.push_back("<pad>");
  EXPECT_CONTAINS(error_of([&] { Vocabulary{special_again}; }), "'<pad>' twice");
  Words empty = specials;
  empty.push_back("");
  EXPECT_CONTAINS(error_of([&] { Vocabulary{empty}; }), "token 4 is empty");
}

TEST(TextVocabularyTest, TokenOutOfRange) {
  const Vocabulary v;
  EXPECT_CONTAINS(error_of([&] { v.token(4); }), "got 4 vs expected 0..3");
  EXPECT_CONTAINS(error_of([&] { v.token(-1); }), "out of range");
}

// ---------------------------------------------------------------------------------------------
// Encoding

TEST(TextEncodeTest, PadsAndEndsWithEos) {
  const Vocabulary v(Words{"<pad>", "<unk>", "<bos>", "<eos>", "hello", ",", "world", "!"});
  const EncodedText e = encode_text(v, "Hello, big world!", 8);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{4, 5, Vocabulary::kUnk, 6, 7, Vocabulary::kEos,
                                         Vocabulary::kPad, Vocabulary::kPad}));
  EXPECT_EQ(e.length, 6);
  EXPECT_FALSE(e.truncated);
  // Without lowercasing, "Hello" is unknown.
  EXPECT_EQ(encode_text(v, "Hello", 3, false).ids,
            (std::vector<int64_t>{Vocabulary::kUnk, Vocabulary::kEos, Vocabulary::kPad}));
  // Exactly max_tokens - 1 words: no truncation, no padding.
  const EncodedText full = encode_text(v, "hello world", 3);
  EXPECT_EQ(full.ids, (std::vector<int64_t>{4, 6, Vocabulary::kEos}));
  EXPECT_EQ(full.length, 3);
  EXPECT_FALSE(full.truncated);
  // No words at all: just the end token.
  const EncodedText none = encode_text(v, "  ", 4);
  EXPECT_EQ(none.ids, (std::vector<int64_t>{Vocabulary::kEos, 0, 0, 0}));
  EXPECT_EQ(none.length, 1);
}

TEST(TextEncodeTest, TruncationKeepsFirstWordsThenEos) {
  const Vocabulary v(Words{"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "d"});
  const EncodedText e = encode_text(v, "a b c d a", 4);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{4, 5, 6, Vocabulary::kEos}));
  EXPECT_EQ(e.length, 4);
  EXPECT_TRUE(e.truncated);
  const EncodedText two = encode_text(v, "d c", 2);
  EXPECT_EQ(two.ids, (std::vector<int64_t>{7, Vocabulary::kEos}));
  EXPECT_EQ(two.length, 2);
  EXPECT_TRUE(two.truncated);
  for (int64_t bad : {1, 0, -3}) {
    EXPECT_CONTAINS(error_of([&] { encode_text(v, "a", bad); }), "max_tokens");
  }
}

TEST(TextEncodeTest, DecodeStopsAtEosOrPadAndSkipsBos) {
  const Vocabulary v(Words{"<pad>", "<unk>", "<bos>", "<eos>", "hi", ",", "there", "!"});
  EXPECT_EQ(decode_ids(v, {Vocabulary::kBos, 4, 5, 6, 7, Vocabulary::kEos, 4, 6}), "hi, there!");
  EXPECT_EQ(decode_ids(v, {4, Vocabulary::kUnk, 6, Vocabulary::kPad, 7}), "hi <unk> there");
  EXPECT_EQ(decode_ids(v, {4, 6}), "hi there");
  EXPECT_EQ(decode_ids(v, {Vocabulary::kEos, 4}), "");
  EXPECT_EQ(decode_ids(v, {}), "");
  EXPECT_EQ(decode_ids(v, encode_text(v, "Hi, there!", 10).ids), "hi, there!");
  EXPECT_CONTAINS(error_of([&] { decode_ids(v, {4, 8}); }), "out of range");
}
