// The built-in modalities: one line each. A new modality is its own folder under
// src/modalities/ plus one line here (docs/architecture.md, "Adding a modality").
#include "modalities/image/image.h"
#include "modalities/text/text.h"
#include "models/backbone.h"

namespace cvae::models {

void register_builtin_modalities() {
  modalities::image::register_image();  // first: it reads what no other modality claims
  modalities::text::register_text();
}

}  // namespace cvae::models
