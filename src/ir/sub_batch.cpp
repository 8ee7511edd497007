#include "ir/sub_batch.h"

#include <algorithm>

namespace vkvision::ir {

uint32_t smaller_sub_batch(uint32_t batch, uint32_t current, uint64_t bytes, uint64_t limit) {
  if (current <= 1) return 0;
  // Rounded up, so the per-image figure never underestimates (a statistics block's alignment
  // padding does not grow with the batch).
  const uint64_t per_image = (bytes + current - 1) / current;
  // At least 1: whether one image fits is for a plan at batch 1 to measure.
  const auto fitting = static_cast<uint32_t>(std::clamp<uint64_t>(limit / per_image, 1, current - 1));
  return (batch + submit_count(batch, fitting) - 1) / submit_count(batch, fitting);
}

}  // namespace vkvision::ir
