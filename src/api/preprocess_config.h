// The one mapping from the public Preprocessing to the eval transform io::preprocess and the GPU
// image input compute (vkvision::preprocess, Session, the CLI), so they cannot disagree.
#pragma once
#include <cstdint>

#include "io/image.h"
#include "vkvision/model.h"

namespace vkvision::detail {

// input_size 0: the preprocessing's own (crop_pct stays, so the resize scales with the size). Throws
// InputError for an interpolation other than "bicubic" or "bilinear"; the rest is checked where the
// config is used (io::check_config).
io::PreprocessConfig preprocess_config(const Preprocessing& preprocessing, uint32_t input_size = 0);

}  // namespace vkvision::detail
