// Turns decoded images into the NCHW batch a model expects, with the model's eval transform.
#pragma once
#include <vector>

#include "io/image.h"
#include "vkvision/model.h"

namespace vkvision::cli {

io::PreprocessConfig preprocess_config(const Preprocessing& preprocessing);

// Images are preprocessed in order and concatenated: [images.size(), C, S, S].
std::vector<float> make_batch(const std::vector<io::Image>& images, const Preprocessing& preprocessing);

}  // namespace vkvision::cli
