// RepMLP's local-perceptron conv on NHWC maps (shaders/partition_conv.comp), which unconverted
// (training-time) layer lists run.
#pragma once

#include "ops/partition.h"
#include "vk/program.h"

namespace vkvision::ops {

// weight [S, 1, KH, KW] as is; bias [S]. Odd kernels, padding K / 2 (the reference's repconv{k}).
vk::Dispatch partition_conv(const DeviceInfo& device, const PartitionShape& shape, uint32_t kh, uint32_t kw,
                            const vk::BufferSlice& input, const vk::BufferSlice& weight,
                            const vk::BufferSlice& bias, const vk::BufferSlice& output);

}  // namespace vkvision::ops
