// Folders of images, one sub-folder per label:
//
//   dir/cat/001.png, dir/cat/002.jpg, dir/dog/a.jpeg, ...
//
// Sub-folder names are the label names; label indices follow the names sorted byte-wise.
// PNG and JPEG files (extensions .png, .jpg, .jpeg, any case) are read in sorted order;
// other files and hidden entries (names starting with '.') are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cvae::modalities::image {

struct ImageFolderOptions {
  int height = 0, width = 0;  // 0 = take from the first image (first label, first file)
  bool resize = false;        // false: images of another size are an error; true: resized
  int channels = 0;           // 0 = auto (1 if every file is grayscale, else 3); 1 or 3 forces
};

struct ImageFolder {
  int64_t n = 0, channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;           // n * channels * height * width, planar CHW per image
  std::vector<int64_t> labels;           // n, indices into label_names
  std::vector<std::string> label_names;  // sorted sub-folder names
  std::vector<std::string> paths;        // n, the file each image came from
};

// Reads every image under dir. Throws DataError naming the folder or file when dir is not a
// folder, has no label sub-folders, a label sub-folder holds no images, a file fails to decode
// (with stb's reason), or (without resize) an image has another size than the expected one.
// Throws ConfigError for out-of-range options. Alpha channels are dropped; with channels = 1,
// colour images are converted to luminance.
ImageFolder read_image_folder(const std::string& dir, const ImageFolderOptions& opt);

}  // namespace cvae::modalities::image
