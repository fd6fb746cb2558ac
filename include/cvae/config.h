// Configuration structs with their defaults. Every struct has one validate()
// that throws ConfigError naming the field, the value and the allowed range.
// No torch here: the CLI and the public API include this header cheaply.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvae {

// One categorical condition: its name ("label", "accent", ...) and the names of
// its values, in index order. A model carries one or more of these; their
// one-hot codes are concatenated into the condition vector c (width C).
// kind is kept in the model file so multi-hot and continuous conditions can be
// added behind the same interface; "categorical" is the one implemented now.
struct ConditionSpec {
  std::string name = "label";
  std::string kind = "categorical";
  std::vector<std::string> labels;
};

// Total width C of the encoded condition vector.
int64_t condition_width(const std::vector<ConditionSpec>& conditions);

// The network and likelihood. input_shape and conditions come from the data.
struct ModelConfig {
  // Defaults from the measurements in docs/models.md.
  // The kind of data (src/modalities/): image | text | ...; set from the data
  // when training starts and stored. "" in files written before it was stored:
  // the modality is then inferred (models/backbone.h, model_kind_of).
  std::string modality;
  std::string arch = "auto";              // backbone: mlp | conv | rnn | auto (the modality's
                                          //   default: rnn for text, conv for images large
                                          //   enough for `channels`, else mlp)
  std::string likelihood = "auto";        // p(x | z, c): bernoulli | cbernoulli | gaussian
                                          //   | categorical | multinomial | auto (the
                                          //   modality's default: categorical for text,
                                          //   multinomial for item sets, else bernoulli)
  std::string prior = "learned";          // p(z | c): standard (N(0, I)) | learned
  std::vector<int64_t> input_shape;       // per example, e.g. {1, 28, 28}
  std::vector<ConditionSpec> conditions;  // from the data
  std::vector<int64_t> hidden = {256};    // MLP widths (conv: the dense layers after the
                                          //   convolutions; rnn: the GRU state size, one
                                          //   entry); the decoder mirrors them
  // Text (tokens): the vocabulary from the data, index = token id, the first four
  // are <pad> <unk> <bos> <eos> (modalities/text/tokens.h). Item sets: the
  // catalogue, one entry per item (modalities/items/lite/catalogue.h). Empty
  // for other data.
  std::vector<std::string> vocabulary;
  int64_t embedding = 256;    // rnn: token embedding size
  double word_dropout = 0.5;  // rnn: share of decoder input tokens replaced by <unk> in
                              //   training (Bowman et al. 2016)
  std::vector<int64_t> channels = {32, 64};  // conv: channels per stride-2 convolution
  int64_t latent = 16;                       // Z
  bool classifier = false;    // semi-supervised: the model also holds q(y | x) (Kingma et al. 2014)
  double logvar_min = -10.0;  // encoder log-variance is clamped to
  double logvar_max = 10.0;   //   [logvar_min, logvar_max]
  // The checks that hold for every modality and backbone (shape, widths,
  // latent, prior, conditions). The backbone's own options, the fit of arch and
  // likelihood to the data and the size bound are models::resolve_model_config's.
  void validate() const;
};

// The optimisation.
struct TrainConfig {
  int64_t epochs = 40;
  int64_t batch_size = 32;
  double lr = 1e-3;             // Adam
  double beta = 1.0;            // weight of KL(q || p) in the loss
  double kl_warmup = 5.0;       // epochs over which beta rises linearly from 0 to beta
  int64_t kl_cycles = 0;        // cyclical schedule (Fu et al. 2019): cycles over the run; 0 = off
  double kl_cycle_ratio = 0.5;  // share of each cycle over which beta rises from 0 to beta
  double free_bits = -1;        // KL floor per latent dimension in nats (Kingma et al. 2016);
                                //   -1 = auto: 0.5 for text (against posterior collapse), 0
                                //   for images (resolved and stored when training starts)
  int64_t gmm_components = 30;  // latent density fitted per label after training; 0 = none
  // Semi-supervised (M2, Kingma et al. 2014): keep the labels of this many training
  // examples (stratified, seeded) and use the rest unlabelled; 0 = all labelled.
  int64_t labelled = 0;
  double ssl_alpha = 0;       // weight of q(y|x)'s cross-entropy; 0 = 0.1 * unlabelled / labelled
  double grad_clip = 0.0;     // max global gradient norm; 0 = off
  double val_fraction = 0.1;  // share of the training split held out for validation
  int64_t save_every = 0;     // also write the model file every N steps (0 = each epoch only)
  uint64_t seed = 1;
  int threads = 0;  // 0 = all cores
  void validate() const;
};

// Where the data comes from. path is a directory of IDX files
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]), of image folders
// (one sub-folder per label, optionally under train/ and test/), or a text
// file: TSV (label<TAB>text per line) or CSV with a header (modalities/text/tokens.h).
// A text file is every split, except that the "test" split of a file whose
// name contains "train" is the file with "test" in its place (when present).
struct DataConfig {
  std::string path;
  std::string modality = "auto";  // auto (the modality that claims the path: text for
                                  //   .tsv/.csv/.txt files, image for directories) | a
                                  //   modality's name (cvae::modality_names())
  int image_height = 0;           // image folders: 0 = size of the first image
  int image_width = 0;
  bool resize = false;  // image folders: resize other sizes instead of rejecting them
  int channels = 0;     // image folders: 0 = auto, 1 = grayscale, 3 = colour
  // Text:
  int64_t max_tokens = 64;  // sequence length T: words kept + <eos>; longer texts keep their
                            //   first max_tokens - 1 words (T = the longest text + 1 when
                            //   that is shorter)
  int64_t min_count = 2;    // words seen fewer times in the training texts become <unk>
                            //   (texts are lowercased and split into words and punctuation)
  std::string label_column = "label";  // CSV header names
  std::string text_column = "text";
  // Item sets (ratings.csv and movies.csv; docs/recommend.md):
  uint64_t split_seed = 1;      // which users are held out (validation and test)
  int64_t heldout_users = 100;  // validation users, and as many test users
  bool genre_rows = true;       // train on (user, genre) rows too (false: "any" only)
  // Set by the library when reading data for a trained model: encode with this
  // vocabulary (text; item sets: the catalogue) and exactly max_tokens
  // positions instead of building them.
  std::vector<std::string> vocabulary;
  void validate() const;
};

}  // namespace cvae
