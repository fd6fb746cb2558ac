// Image data as tensors: a directory of IDX files
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], labels.txt optional) or of
// image folders (one sub-folder per label, optionally under train/ and test/).
//
// Shapes: N images, x (N, C, H, W) float32 in [0, 1], y (N, 1) int64.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "cvae/config.h"
#include "data/dataset.h"

namespace cvae::modalities::image {

// Whether path is a directory (what the image modality claims); false when it
// cannot be read.
bool is_directory(const std::string& path);

// Split "train" or "test" of the images at cfg.path; DataError on bad input.
data::Dataset load_image_data(const DataConfig& cfg, const std::string& split);

// cfg for reading images as a network of this shape reads them: image folders'
// unset size and channels default to the model's (C x H x W).
DataConfig reading_for_images(DataConfig cfg, const std::vector<int64_t>& shape);

}  // namespace cvae::modalities::image
