#include "ops/half_weights.h"

#include <bit>
#include <optional>

#include "vkvision/error.h"

namespace vkvision::ops {

uint16_t float_to_half(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return sign | 0x7e00u;   // NaN: a quiet NaN
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520, halfway past 65504, rounds to inf
  if (magnitude < 0x33000000u) return sign;             // < 2^-25, at most half the smallest subnormal
  uint32_t half, dropped, shift;
  if (magnitude < 0x38800000u) {
    // Subnormal half: the value in units of 2^-24 is the 24-bit significand shifted right.
    const uint32_t exponent = magnitude >> 23, significand = (magnitude & 0x7fffffu) | 0x800000u;
    shift = 126 - exponent;  // 14..24 for exponents 102..112
    half = significand >> shift;
    dropped = significand & ((1u << shift) - 1);
  } else {
    // Normal: rebias the exponent (127 -> 15) and drop 13 significand bits.
    shift = 13;
    half = (magnitude - 0x38000000u) >> shift;
    dropped = magnitude & 0x1fffu;
  }
  // A carry out of the significand moves to the next binade (or from subnormal to normal): still right.
  const uint32_t halfway = 1u << (shift - 1);
  if (dropped > halfway || (dropped == halfway && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float half_to_float(uint16_t half) {
  const uint32_t sign = uint32_t(half & 0x8000u) << 16, exponent = (half >> 10) & 0x1fu,
                 mantissa = half & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in fp32.
    const float value = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -value : value;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

bool half_weights_supported(const DeviceInfo& device, bool texel_path) {
  return texel_path ? device.texel_buffer_rgba16f : device.storage_buffer_16bit;
}

std::string half_weights_unsupported_reason(const DeviceInfo& device) {
  if (device.storage_buffer_16bit || device.texel_buffer_rgba16f) return {};
  return "fp16 weights need 16-bit storage buffers or RGBA16F uniform texel buffers, and " + device.name +
         " has neither";
}

void use_half_weights(vk::Dispatch& dispatch, uint32_t binding, const DeviceInfo& device) {
  const bool texel = (dispatch.texel >> binding) & 1;
  if (!half_weights_supported(device, texel))
    throw Error(std::string("internal: ") + vk::shader_name(dispatch.shader) +
                " cannot read fp16 weights on this device (" +
                (texel ? "no RGBA16F texel buffers" : "no 16-bit storage") + ")");
  if (texel) {
    dispatch.half_texel |= 1u << binding;
    return;
  }
  const std::optional<vk::ShaderId> variant = vk::half_weights_variant(dispatch.shader);
  if (!variant)
    throw Error(std::string("internal: ") + vk::shader_name(dispatch.shader) +
                " has no fp16-weight variant (no // @half_weights line in its shader)");
  dispatch.shader = *variant;
}

std::vector<uint16_t> to_half(std::span<const float> values) {
  std::vector<uint16_t> halves((values.size() + 3) / 4 * 4, 0);
  for (size_t i = 0; i < values.size(); ++i) halves[i] = float_to_half(values[i]);
  return halves;
}

}  // namespace vkvision::ops
