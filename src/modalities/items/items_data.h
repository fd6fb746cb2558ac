// Reading item-set data (MovieLens's ratings.csv and movies.csv) as the items
// modality's datasets: a row per (user, genre condition), x the user's items.
//
// Shapes: N rows, I items (the catalogue's columns), L labels of the genre
// condition ("any" and the genres).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"
#include "data/dataset.h"
#include "modalities/items/lite/catalogue.h"
#include "modalities/items/lite/protocol.h"

namespace cvae::modalities::items {

// Whether cfg.path is a folder holding ratings.csv and movies.csv.
bool is_item_folder(const DataConfig& cfg);

struct ItemData {
  Catalogue catalogue;              // the columns
  std::vector<std::string> labels;  // the genre condition: "any", then the genres
  Split split;                      // users' items as catalogue columns
  std::string source;               // the folder, for messages
};

// The folder at cfg.path split by the protocol (lite/protocol.h) with
// cfg.split_seed and cfg.heldout_users. model_catalogue: a trained model's
// catalogue entries (ModelConfig::vocabulary): its columns and labels are
// kept, items it does not hold dropped; empty: the catalogue is the items of
// the training users' positives.
ItemData read_items(const DataConfig& cfg, const std::vector<std::string>& model_catalogue);

// The rows of split "train", "validation" or "test". Training rows: each user
// with "any", and (genre_rows) with each genre of their items; x is always
// all the user's items (the likelihood explains those the label allows,
// models/likelihood.h). Held-out users: one "any" row, x = fold-in and
// held-out items. ids = userId.
data::Dataset item_rows(const ItemData& d, const std::string& split, bool genre_rows);

// (R, I) float32, 1 at each listed column.
torch::Tensor multi_hot(const std::vector<std::vector<int64_t>>& columns, int64_t items);

// (L, I) float32: 1 where label l allows item i ("any": every item; a genre:
// the catalogue's items of that genre).
torch::Tensor allowed_items(const Catalogue& c, const std::vector<std::string>& labels);

}  // namespace cvae::modalities::items
