#include "modalities/image/image_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cvae/errors.h"
#include "io/idx.h"
#include "io/labels.h"
#include "modalities/image/image_folder.h"

namespace fs = std::filesystem;

namespace cvae::modalities::image {
namespace {

// Non-throwing filesystem checks: a permission problem reads as "not there"
// and is then reported as a DataError by the caller, not as an internal error.
bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}
bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Label names end up in the model file's JSON header and on the terminal.
void check_label_names(const std::vector<std::string>& names, const std::string& source) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty() || !io::is_valid_utf8(names[i])) {
      throw DataError(fmt::format(
          "'{}': label {} has an empty or invalid UTF-8 name (expected UTF-8 text)", source, i));
    }
  }
}

bool has_idx_files(const std::string& dir) {
  for (const char* stem : {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"}) {
    if (present(fs::path(dir) / stem) || present(fs::path(dir) / (std::string(stem) + ".gz"))) {
      return true;
    }
  }
  return false;
}

// Label names for IDX data: labels.txt beside the files (one name per line) when
// present, else the decimal values 0..max, where max is the largest label in
// either split's label file, so train and test agree on the label set.
// max_label: the largest label of the split already read; `other` names the
// other split's label file, read only for its largest label.
std::vector<std::string> idx_label_names(const std::string& dir, int max_label,
                                         const std::string& other) {
  std::vector<std::string> names;
  const fs::path file = fs::path(dir) / "labels.txt";
  if (present(file)) {
    std::ifstream in(file);
    if (!in) throw DataError(fmt::format("cannot open '{}'", file.string()));
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) {
      if (lines.empty() && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.pop_back();
      lines.push_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();  // trailing blank lines
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty()) {
        throw DataError(
            fmt::format("'{}' line {} is blank (expected one label name per line, in label order)",
                        file.string(), i + 1));
      }
    }
    names = lines;
    if (static_cast<int>(names.size()) <= max_label) {
      throw DataError(fmt::format("'{}' names too few labels (got {} vs expected at least {})",
                                  file.string(), names.size(), max_label + 1));
    }
    check_label_names(names, file.string());
    return names;
  }
  const fs::path raw = fs::path(dir) / other;
  if (present(raw) || present(raw.string() + ".gz")) {
    for (uint8_t l : io::read_idx(io::find_idx_file(dir, other)).data)
      max_label = std::max<int>(max_label, l);
  }
  for (int i = 0; i <= max_label; ++i) names.push_back(std::to_string(i));
  return names;
}

data::Dataset load_idx(const std::string& dir, const std::string& split) {
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images = io::find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = io::find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  io::ImageLabelSet set = io::read_idx_pair(images, labels);
  int max_label = 0;
  for (uint8_t l : set.labels) max_label = std::max<int>(max_label, l);

  data::Dataset d;
  d.source = images;
  d.conditions = {ConditionSpec{
      "label", "categorical",
      idx_label_names(dir, max_label,
                      split == "train" ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte")}};
  auto pixels =
      torch::from_blob(set.pixels.data(), {set.n, 1, set.height, set.width}, torch::kUInt8);
  d.x = pixels.to(torch::kFloat32).div_(255.0f);
  auto lab = torch::from_blob(set.labels.data(), {set.n, 1}, torch::kUInt8);
  d.y = lab.to(torch::kInt64);
  return d;
}

data::Dataset load_image_folder(const DataConfig& cfg, const std::string& split) {
  std::string dir = cfg.path;
  const bool has_splits = is_dir(fs::path(dir) / "train");
  if (has_splits) {
    dir = (fs::path(dir) / split).string();
    if (!is_dir(dir)) {
      throw DataError(
          fmt::format("no '{}' split in '{}' (expected a folder '{}')", split, cfg.path, dir));
    }
  } else if (split != "train") {
    throw DataError(
        fmt::format("'{}' has no '{}' split (expected sub-folders train/ and test/, each with one "
                    "folder per label)",
                    cfg.path, split));
  }
  ImageFolderOptions opt;
  opt.height = cfg.image_height;
  opt.width = cfg.image_width;
  opt.resize = cfg.resize;
  opt.channels = cfg.channels;
  ImageFolder f = read_image_folder(dir, opt);
  check_label_names(f.label_names, dir);

  data::Dataset d;
  d.source = dir;
  d.conditions = {ConditionSpec{"label", "categorical", f.label_names}};
  auto pixels =
      torch::from_blob(f.pixels.data(), {f.n, f.channels, f.height, f.width}, torch::kUInt8);
  d.x = pixels.to(torch::kFloat32).div_(255.0f);
  d.y = torch::from_blob(f.labels.data(), {f.n, 1}, torch::kInt64).clone();
  return d;
}

}  // namespace

bool is_directory(const std::string& path) { return is_dir(path); }

data::Dataset load_image_data(const DataConfig& cfg, const std::string& split) {
  if (!is_dir(cfg.path)) {
    throw DataError(
        fmt::format("data path '{}' is not a directory (expected a directory of IDX files "
                    "or of image folders)",
                    cfg.path));
  }
  return has_idx_files(cfg.path) ? load_idx(cfg.path, split) : load_image_folder(cfg, split);
}

DataConfig reading_for_images(DataConfig cfg, const std::vector<int64_t>& shape) {
  if (shape.size() == 3) {
    if (cfg.image_height == 0 && cfg.image_width == 0) {
      cfg.image_height = static_cast<int>(shape[1]);
      cfg.image_width = static_cast<int>(shape[2]);
    }
    if (cfg.channels == 0) cfg.channels = static_cast<int>(shape[0]);
  }
  return cfg;
}

}  // namespace cvae::modalities::image
