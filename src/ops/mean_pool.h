// Global average pooling of NHWC activations. Kernel: shaders/mean_pool.comp.
#pragma once
#include "vk/program.h"

namespace vkvision::ops {

vk::Dispatch mean_pool(const DeviceInfo& device, uint32_t n, uint32_t pixels, uint32_t channels,
                       const vk::BufferSlice& input, const vk::BufferSlice& output);

}  // namespace vkvision::ops
