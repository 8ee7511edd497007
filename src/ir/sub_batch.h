// How a batch is split when its activations do not fit one descriptor: every tensor of a plan grows
// linearly with the plan's batch, and none may exceed what one binding can address
// (maxStorageBufferRange), so the plan runs as several submits of a smaller batch.
#pragma once
#include <cstdint>

namespace vkvision::ir {

// The sub-batch to try after a plan of `current` images (of a `batch` to run) needed `bytes` for its
// largest tensor, over `limit`: as many images as fit at that tensor's bytes per image (always fewer
// than `current`), then evened out over the submits that takes, so that padding the last submit
// costs less than one image per submit. At least 1; 0 when `current` is already 1.
uint32_t smaller_sub_batch(uint32_t batch, uint32_t current, uint64_t bytes, uint64_t limit);

// Submits of `sub_batch` images each that run `batch` images.
inline uint32_t submit_count(uint32_t batch, uint32_t sub_batch) {
  return (batch + sub_batch - 1) / sub_batch;
}

}  // namespace vkvision::ir
