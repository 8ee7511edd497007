// Swin PatchMerging's 2x2 gather (shaders/patch_merge_gather.comp).
#pragma once
#include "vk/program.h"

namespace vkvision::ops {

// [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 4C].
vk::Dispatch patch_merge_gather(const DeviceInfo& device, uint32_t n, uint32_t h, uint32_t w, uint32_t c,
                                const vk::BufferSlice& input, const vk::BufferSlice& output);

}  // namespace vkvision::ops
