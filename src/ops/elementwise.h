// Element-wise ops that fusion normally removes (see shaders/elementwise.comp).
#pragma once
#include "elementwise_abi.h"
#include "vk/program.h"

namespace vkvision::ops {

enum class ElementwiseMode : int32_t {
  Gelu = ELEMENTWISE_MODE_GELU,
  Add = ELEMENTWISE_MODE_ADD,
  ChannelAffine = ELEMENTWISE_MODE_CHANNEL_AFFINE,
  Relu = ELEMENTWISE_MODE_RELU,
  ChannelGate = ELEMENTWISE_MODE_CHANNEL_GATE,
  Multiply = ELEMENTWISE_MODE_MULTIPLY,
};

// Gelu/Relu: y = f(a) (b unused). Add: y = a + b. Multiply: y = a * b. ChannelAffine:
// y = a * b[c] + b[C + c] over the last axis of size `channels`. ChannelGate: y = a * b[n, c] for
// b [N, C], n = index / image where `image` is the number of elements per image.
vk::Dispatch elementwise(const DeviceInfo& device, ElementwiseMode mode, uint32_t count, uint32_t channels,
                         const vk::BufferSlice& a, const vk::BufferSlice& b, const vk::BufferSlice& output,
                         uint32_t image = 1);

}  // namespace vkvision::ops
