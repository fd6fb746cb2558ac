// What recommend (and generate for item-set models) writes: TSV lines
// userId<TAB>rank<TAB>movieId<TAB>score<TAB>title, no header, ranks from 1 per
// user, the score the model's probability of the item (6 significant digits).
#pragma once

#include <string>
#include <vector>

#include "cvae/api.h"

namespace cvae::modalities::items {

std::string recommendations_tsv(const std::vector<Recommendation>& rows);

}  // namespace cvae::modalities::items
