// Turns decoded images into the NCHW batch a model expects, with the model's eval transform.
#pragma once
#include <string>
#include <vector>

#include "io/image.h"
#include "vkvision/model.h"

namespace vkvision::cli {

// Images are preprocessed in order and concatenated: [images.size(), C, S, S].
std::vector<float> make_batch(const std::vector<io::Image>& images, const Preprocessing& preprocessing);

// The same for image files, decoded and preprocessed one at a time so only one decoded image is
// held at once; a bad file throws before the batch is returned.
std::vector<float> load_batch(const std::vector<std::string>& paths, const Preprocessing& preprocessing);

}  // namespace vkvision::cli
