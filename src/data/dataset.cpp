#include "data/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cvae/errors.h"
#include "data/idx.h"
#include "data/image_folder.h"
#include "data/text.h"

namespace fs = std::filesystem;

namespace cvae::data {
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
    if (names[i].empty() || !is_valid_utf8(names[i])) {
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
    for (uint8_t l : read_idx(find_idx_file(dir, other)).data)
      max_label = std::max<int>(max_label, l);
  }
  for (int i = 0; i <= max_label; ++i) names.push_back(std::to_string(i));
  return names;
}

Dataset load_idx(const std::string& dir, const std::string& split) {
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  ImageLabelSet set = read_idx_pair(images, labels);
  int max_label = 0;
  for (uint8_t l : set.labels) max_label = std::max<int>(max_label, l);

  Dataset d;
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

Dataset load_image_folder(const DataConfig& cfg, const std::string& split) {
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

  Dataset d;
  d.source = dir;
  d.conditions = {ConditionSpec{"label", "categorical", f.label_names}};
  auto pixels =
      torch::from_blob(f.pixels.data(), {f.n, f.channels, f.height, f.width}, torch::kUInt8);
  d.x = pixels.to(torch::kFloat32).div_(255.0f);
  d.y = torch::from_blob(f.labels.data(), {f.n, 1}, torch::kInt64).clone();
  return d;
}

}  // namespace

std::vector<int64_t> Dataset::example_shape() const {
  auto s = x.sizes().vec();
  s.erase(s.begin());
  return s;
}

Dataset Dataset::subset(const torch::Tensor& index) const {
  Dataset d;
  d.x = x.index_select(0, index);
  d.y = y.index_select(0, index);
  d.conditions = conditions;
  d.source = source;
  d.vocabulary = vocabulary;
  return d;
}

Dataset load_dataset(const DataConfig& cfg, const std::string& split) {
  cfg.validate();
  if (split != "train" && split != "test") {
    throw ConfigError(
        fmt::format("unknown split (got '{}' vs expected train, val or test)", split));
  }
  if (!present(cfg.path)) {
    throw DataError(
        fmt::format("data path '{}' does not exist (expected a directory of IDX files, "
                    "of image folders, or a .tsv/.csv text file; for MNIST run "
                    "scripts/fetch-data.sh mnist)",
                    cfg.path));
  }
  if (is_text_data(cfg)) return load_text_dataset(cfg, split);
  if (!is_dir(cfg.path)) {
    throw DataError(
        fmt::format("data path '{}' is not a directory (expected a directory of IDX files "
                    "or of image folders)",
                    cfg.path));
  }
  Dataset d = has_idx_files(cfg.path) ? load_idx(cfg.path, split) : load_image_folder(cfg, split);
  if (d.size() == 0) throw DataError(fmt::format("'{}' holds no examples", d.source));
  return d;
}

std::pair<Dataset, Dataset> split_validation(const Dataset& all, double fraction, uint64_t seed) {
  const int64_t n = all.size();
  const int64_t n_val = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
  if (n_val >= n) {
    throw ConfigError(
        fmt::format("validation split leaves no training data (got {} of {} examples)", n_val, n));
  }
  if (n_val == 0) return {all, all.subset(torch::empty({0}, torch::kInt64))};  // no copy
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed ^ 0x5eedf00dULL);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::sort(perm.begin(), perm.begin() + n_val);
  std::sort(perm.begin() + n_val, perm.end());
  auto idx = torch::tensor(perm, torch::kInt64);
  Dataset val = all.subset(idx.slice(0, 0, n_val));
  Dataset train = all.subset(idx.slice(0, n_val, n));
  return {train, val};
}

torch::Tensor stratified_subset(const Dataset& d, int64_t n, uint64_t seed) {
  if (n < 1 || n > d.size()) {
    throw ConfigError(
        fmt::format("labelled examples out of range (got {} vs expected 1..{})", n, d.size()));
  }
  const int64_t labels = static_cast<int64_t>(d.conditions.at(0).labels.size());
  std::vector<std::vector<int64_t>> by_label(static_cast<size_t>(labels));
  auto y = d.y.select(1, 0).contiguous();
  for (int64_t i = 0; i < d.size(); ++i)
    by_label[static_cast<size_t>(y[i].item<int64_t>())].push_back(i);
  std::mt19937_64 rng(seed ^ 0x1abe11edULL);
  for (auto& v : by_label) std::shuffle(v.begin(), v.end(), rng);
  // Round-robin over labels: an even share each, small labels exhausted first.
  std::vector<int64_t> picked;
  std::vector<size_t> next(static_cast<size_t>(labels), 0);
  while (static_cast<int64_t>(picked.size()) < n) {
    for (size_t k = 0; k < by_label.size() && static_cast<int64_t>(picked.size()) < n; ++k) {
      if (next[k] < by_label[k].size()) picked.push_back(by_label[k][next[k]++]);
    }
  }
  std::sort(picked.begin(), picked.end());
  return torch::tensor(picked, torch::kInt64);
}

void check_compatible(Dataset& d, const std::vector<int64_t>& shape,
                      const std::vector<ConditionSpec>& expected) {
  if (d.example_shape() != shape) {
    throw DataError(
        fmt::format("'{}' has examples of shape {} (expected {} as the model was trained on)",
                    d.source, fmt::join(d.example_shape(), "x"), fmt::join(shape, "x")));
  }
  if (d.conditions.size() != expected.size()) {
    throw DataError(fmt::format("'{}' has {} conditions (expected {})", d.source,
                                d.conditions.size(), expected.size()));
  }
  for (size_t k = 0; k < expected.size(); ++k) {
    const auto& have = d.conditions[k].labels;
    const auto& want = expected[k].labels;
    if (have == want) continue;
    std::vector<int64_t> map(have.size());
    for (size_t i = 0; i < have.size(); ++i) {
      auto it = std::find(want.begin(), want.end(), have[i]);
      if (it == want.end()) {
        throw DataError(
            fmt::format("'{}' has label '{}' that the model does not know (expected one of: {})",
                        d.source, have[i], fmt::join(want, ", ")));
      }
      map[i] = it - want.begin();
    }
    auto col = d.y.select(1, static_cast<int64_t>(k));
    col.copy_(torch::tensor(map, torch::kInt64).index_select(0, col.clone()));
    d.conditions[k].labels = want;
  }
}

DataConfig data_config_for_model(DataConfig cfg, const std::vector<int64_t>& shape,
                                 const std::vector<std::string>& vocabulary) {
  if (!vocabulary.empty()) {
    cfg.vocabulary = vocabulary;
    cfg.max_tokens = shape.at(0);
    if (cfg.modality == "auto") cfg.modality = "text";
    return cfg;
  }
  if (shape.size() == 3) {
    if (cfg.image_height == 0 && cfg.image_width == 0) {
      cfg.image_height = static_cast<int>(shape[1]);
      cfg.image_width = static_cast<int>(shape[2]);
    }
    if (cfg.channels == 0) cfg.channels = static_cast<int>(shape[0]);
  }
  return cfg;
}

torch::Tensor encode_conditions(const std::vector<ConditionSpec>& conditions,
                                const torch::Tensor& y) {
  TORCH_CHECK(y.dim() == 2 && y.size(1) == static_cast<int64_t>(conditions.size()),
              "condition index tensor has the wrong shape");
  std::vector<torch::Tensor> parts;
  parts.reserve(conditions.size());
  for (size_t k = 0; k < conditions.size(); ++k) {
    const int64_t classes = static_cast<int64_t>(conditions[k].labels.size());
    parts.push_back(
        torch::one_hot(y.select(1, static_cast<int64_t>(k)), classes).to(torch::kFloat32));
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
}

torch::Tensor parse_labels(const std::vector<ConditionSpec>& conditions,
                           const std::vector<std::string>& requested) {
  return label_rows_tensor(parse_label_rows(conditions, requested),
                           static_cast<int64_t>(conditions.size()));
}

torch::Tensor label_rows_tensor(const LabelRows& rows, int64_t k) {
  auto out = torch::empty({static_cast<int64_t>(rows.size()), k}, torch::kInt64);
  auto acc = out.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int64_t j = 0; j < k; ++j)
      acc[static_cast<int64_t>(i)][j] = rows[i][static_cast<size_t>(j)];
  }
  return out;
}

std::string label_name(const std::vector<ConditionSpec>& conditions, const torch::Tensor& row) {
  auto r = row.to(torch::kInt64).contiguous();
  return label_row_name(
      conditions, std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()));
}

std::vector<std::string> label_names(const std::vector<ConditionSpec>& conditions,
                                     const torch::Tensor& rows) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < rows.size(0); ++i) names.push_back(label_name(conditions, rows[i]));
  return names;
}

}  // namespace cvae::data
