// The text modality: labelled texts (TSV or CSV) as token ids, the recurrent
// backbone (rnn), the categorical likelihood, TSV out, transfer of texts given
// on the command line, perplexity, and a bag-of-words judge with distinct-n
// and copy counts.
#pragma once

namespace cvae::modalities::text {

// Registers the rnn backbone and the text modality (src/modalities/registry.cpp).
void register_text();

}  // namespace cvae::modalities::text
