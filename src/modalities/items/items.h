// The item-set modality (recommendations; docs/recommend.md): MovieLens's
// ratings.csv and movies.csv in, a Mult-VAE conditioned on a genre, ranking
// metrics in eval and the `recommend` sub-command.
#pragma once

namespace cvae::modalities::items {

// Registers the multvae backbone and the items modality.
void register_items();

}  // namespace cvae::modalities::items
