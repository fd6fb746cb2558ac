// A test-only modality: fixed-length float vectors from a text file, one
// example per line "label,v1,v2,...,vD" (values in [0, 1]), file extension
// .vec. It is added the way docs/architecture.md ("Adding a modality") says:
// this folder plus one registration call, and nothing else in the code base
// knows it. tests/modalities/toy/test_toy_modality.cpp runs every command
// through it: the proof that the Modality interface is complete.
#pragma once

namespace cvae::testing {

// Registers the "toy" modality (idempotent).
void register_toy_modality();

}  // namespace cvae::testing
