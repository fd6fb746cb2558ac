// The image modality: images C x H x W (IDX files or image folders), the mlp
// and conv backbones, Bernoulli / continuous Bernoulli / Gaussian pixels,
// PNG grids and IDX files out, and a convolutional judge.
#pragma once

namespace cvae::modalities::image {

// Registers the conv backbone and the image modality (src/modalities/registry.cpp).
void register_image();

}  // namespace cvae::modalities::image
