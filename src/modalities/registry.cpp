// The built-in modalities: one line each. A new modality is its own folder under
// src/modalities/ plus one line here (docs/architecture.md, "Adding a modality").
#include <mutex>

#include "core/once.h"
#include "modalities/image/image.h"
#include "modalities/items/items.h"
#include "modalities/modality.h"
#include "modalities/text/text.h"
#include "models/backbone.h"

namespace cvae::modalities {
namespace {

// True while the built-in modalities register themselves (a lookup they make
// then must not wait for the call_once it runs in).
thread_local bool g_registering = false;

}  // namespace

void register_builtins() {
  static std::once_flag once;
  core::call_once_reentrant(once, g_registering, [] {
    models::ensure_builtin_registrations();  // the MLP backbone first
    image::register_image();                 // first: it reads what no other modality claims
    text::register_text();
    items::register_items();  // claims before the others: the latest registered is asked first
  });
}

}  // namespace cvae::modalities
