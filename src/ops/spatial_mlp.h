// Swin-MLP's spatial token mixing (shaders/spatial_mlp.comp).
#pragma once
#include <algorithm>

#include "vk/program.h"

namespace vkvision::ops {

struct SpatialMlpShape {
  uint32_t n = 1, h = 0, w = 0, c = 0;
  uint32_t heads = 1;
  uint32_t window = 7;
  uint32_t shift = 0;  // requested; the official code drops it when min(H, W) <= window

  uint32_t effective_shift() const { return std::min(h, w) <= window ? 0 : shift; }
  uint32_t pad_top() const { return effective_shift() ? window - effective_shift() : 0; }
  uint32_t padded_h() const { return (h + pad_top() + effective_shift() + window - 1) / window * window; }
  uint32_t padded_w() const { return (w + pad_top() + effective_shift() + window - 1) / window * window; }
};

// Swin-MLP token mixing: x, y [N, H, W, C]; weight [heads, T, T]; bias [heads, T]. C/heads % 4 == 0.
vk::Dispatch spatial_mlp(const DeviceInfo& device, const SpatialMlpShape& shape, const vk::BufferSlice& input,
                         const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                         const vk::BufferSlice& output);

}  // namespace vkvision::ops
