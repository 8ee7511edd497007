// fp16 weight storage (SessionOptions::precision): the host rounds packed fp32 weights once to IEEE
// 754 binary16 ("half"); kernels widen them back to fp32 as they read, so all arithmetic stays fp32.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vk/program.h"

namespace vkvision::ops {

// Whether a kernel can read fp16 weights on its operand path: through an RGBA16F texel view (texel
// paths), or through 16-bit storage (the *_half_weights shader variants).
bool half_weights_supported(const DeviceInfo& device, bool texel_path);
// Why no kernel on this device can read fp16 weights (neither path), or empty when some can.
std::string half_weights_unsupported_reason(const DeviceInfo& device);

// Makes `dispatch` read binding `binding` as fp16 weights: an RGBA16F view where that binding is a
// texel buffer, else the shader's `<shader>_half_weights` variant. Throws Error where the device
// cannot (callers check half_weights_supported first).
void use_half_weights(vk::Dispatch& dispatch, uint32_t binding, const DeviceInfo& device);

// Round to nearest, ties to even (what IEEE conversion and PyTorch's .half() do): overflow past
// 65504 (from 65520 on) gives +-inf, values below 2^-14 become subnormals, below 2^-25 zero; NaN
// stays NaN.
uint16_t float_to_half(float value);
float half_to_float(uint16_t half);

// Every value rounded to half, zero-padded to a multiple of 4 halves so that a buffer of them is
// whole 8-byte RGBA16F texels (and whole f16vec4s).
std::vector<uint16_t> to_half(std::span<const float> values);

}  // namespace vkvision::ops
