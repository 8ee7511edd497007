// What embedding costs per frame (`vkvision bench`): the CPU time of Session::record into a host
// command buffer, and the device time of the GPU image preprocessing beside the network's.
#pragma once
#include <memory>

#include "vkvision/vkvision.h"

namespace vkvision::cli {

struct EmbeddingCosts {
  double record_buffer_us = 0;    // median CPU time of one record() with buffer input and output
  double record_image_us = 0;     // ... with an image input (after its first record)
  double preprocess_ms = -1;      // device time of the image preprocessing; -1: no timestamps
  double network_ms = -1;         // device time of the network (profile()'s total); -1: no timestamps
  double host_preprocess_ms = 0;  // io::preprocess of the same pixels on the CPU (best of 5)
  uint32_t image_width = 1024, image_height = 768;
};

// Records `session` `iterations` times into a command buffer of the runtime's device and times the
// preprocessing of a 1024x768 RGBA8 image with timestamps.
EmbeddingCosts measure_embedding_costs(const std::shared_ptr<Runtime>& runtime, Session& session,
                                       const Model& model, uint32_t iterations);

}  // namespace vkvision::cli
