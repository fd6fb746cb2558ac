#include "modalities/image/image_folder.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "cvae/errors.h"

namespace cvae::modalities::image {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Non-hidden entries of dir that are folders (want_dirs) or regular files, sorted by name.
std::vector<fs::path> list_entries(const fs::path& dir, bool want_dirs) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    throw DataError(fmt::format("cannot list folder '{}' ({})", dir.string(), ec.message()));
  }
  std::vector<fs::path> out;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    if (is_hidden(p)) continue;
    std::error_code type_ec;
    const bool keep = want_dirs ? it->is_directory(type_ec) : it->is_regular_file(type_ec);
    if (keep && !type_ec) out.push_back(p);
  }
  if (ec) {
    throw DataError(fmt::format("cannot list folder '{}' ({})", dir.string(), ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

struct FileInfo {
  std::string path;
  int64_t label = 0;
  int height = 0, width = 0, comp = 0;
};

}  // namespace

ImageFolder read_image_folder(const std::string& dir, const ImageFolderOptions& opt) {
  if (opt.height < 0 || opt.width < 0) {
    throw ConfigError(fmt::format("image size must be positive or 0 for automatic (got {}x{})",
                                  opt.height, opt.width));
  }
  if (opt.channels != 0 && opt.channels != 1 && opt.channels != 3) {
    throw ConfigError(
        fmt::format("image channels must be 0 (automatic), 1 or 3 (got {})", opt.channels));
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    throw DataError(fmt::format("cannot read image folder '{}': no such folder", dir));
  }
  if (!fs::is_directory(dir, ec)) {
    throw DataError(fmt::format("cannot read image folder '{}': not a folder", dir));
  }

  ImageFolder out;
  const std::vector<fs::path> label_dirs = list_entries(dir, true);
  if (label_dirs.empty()) {
    size_t loose = 0;
    for (const auto& f : list_entries(dir, false)) loose += has_image_extension(f) ? 1 : 0;
    throw DataError(fmt::format(
        "cannot read image folder '{}': no label sub-folders (expected one sub-folder per label, "
        "e.g. '{}'){}",
        dir, (fs::path(dir) / "cat" / "001.png").string(),
        loose ? fmt::format("; found {} images directly in the folder", loose) : std::string()));
  }

  // Pass 1: list the files and read their headers (size and channel count) only.
  std::vector<FileInfo> files;
  for (const auto& label_dir : label_dirs) {
    const auto label = static_cast<int64_t>(out.label_names.size());
    out.label_names.push_back(label_dir.filename().string());
    size_t found = 0;
    for (const auto& f : list_entries(label_dir, false)) {
      if (!has_image_extension(f)) continue;
      FileInfo info;
      info.path = f.string();
      info.label = label;
      if (!stbi_info(info.path.c_str(), &info.width, &info.height, &info.comp)) {
        throw DataError(fmt::format("cannot read image '{}': not a readable PNG or JPEG ({})",
                                    info.path, stb_reason()));
      }
      if (static_cast<int64_t>(info.width) * info.height > (int64_t{1} << 26)) {
        throw DataError(fmt::format(
            "cannot use image '{}': {}x{} pixels (expected at most {} pixels per image)", info.path,
            info.height, info.width, int64_t{1} << 26));
      }
      files.push_back(std::move(info));
      ++found;
    }
    if (found == 0) {
      throw DataError(fmt::format(
          "cannot read image folder '{}': label folder '{}' holds no images (.png, .jpg, .jpeg)",
          dir, label_dir.string()));
    }
  }

  const FileInfo& first = files.front();
  const int height = opt.height > 0 ? opt.height : first.height;
  const int width = opt.width > 0 ? opt.width : first.width;
  const bool size_from_options = opt.height > 0 && opt.width > 0;
  int channels = opt.channels;
  if (channels == 0) {
    const bool all_gray = std::all_of(files.begin(), files.end(),
                                      [](const FileInfo& f) { return f.comp == 1 || f.comp == 2; });
    channels = all_gray ? 1 : 3;
  }
  auto check_size = [&](const std::string& path, int h, int w) {
    if (opt.resize || (h == height && w == width)) return;
    throw DataError(fmt::format(
        "cannot use image '{}': got {}x{} (height x width) vs expected {}x{} ({}); pass --resize "
        "to resize every image to {}x{}",
        path, h, w, height, width,
        size_from_options ? std::string("the requested size")
                          : fmt::format("the size of the first image '{}'", first.path),
        height, width));
  };
  for (const auto& f : files) check_size(f.path, f.height, f.width);

  // Pass 2: decode, convert and (when asked) resize into the planar output.
  const auto n = static_cast<int64_t>(files.size());
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  const size_t per_image = plane * static_cast<size_t>(channels);
  out.n = n;
  out.channels = channels;
  out.height = height;
  out.width = width;
  constexpr size_t kMaxBytes = size_t{16} << 30;
  if (per_image > kMaxBytes / static_cast<size_t>(n)) {
    throw DataError(fmt::format(
        "image folder '{}' holds {} images of {}x{}x{} (expected at most {} GiB of pixels)", dir, n,
        channels, height, width, kMaxBytes >> 30));
  }
  out.pixels.resize(per_image * static_cast<size_t>(n));
  out.labels.reserve(files.size());
  out.paths.reserve(files.size());
  std::vector<uint8_t> resized;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileInfo& f = files[i];
    const std::string bytes = core::read_file(f.path);
    if (bytes.size() > static_cast<size_t>(INT_MAX)) {
      throw DataError(fmt::format("cannot read image '{}': file too large ({} bytes vs at most {})",
                                  f.path, bytes.size(), INT_MAX));
    }
    int w = 0, h = 0, comp = 0;
    std::unique_ptr<unsigned char, StbFree> img(
        stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                              static_cast<int>(bytes.size()), &w, &h, &comp, channels));
    if (!img) {
      throw DataError(fmt::format("cannot decode image '{}': {}", f.path, stb_reason()));
    }
    check_size(f.path, h, w);
    const uint8_t* src = img.get();
    if (h != height || w != width) {
      resized.resize(per_image);
      if (!stbir_resize_uint8(img.get(), w, h, 0, resized.data(), width, height, 0, channels)) {
        throw DataError(fmt::format("cannot resize image '{}' from {}x{} to {}x{}", f.path, h, w,
                                    height, width));
      }
      src = resized.data();
    }
    uint8_t* dst = out.pixels.data() + i * per_image;
    for (size_t p = 0; p < plane; ++p) {
      for (int c = 0; c < channels; ++c) {
        dst[static_cast<size_t>(c) * plane + p] = src[p * static_cast<size_t>(channels) + c];
      }
    }
    out.labels.push_back(f.label);
    out.paths.push_back(f.path);
  }
  return out;
}

}  // namespace cvae::modalities::image
