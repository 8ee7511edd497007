#include "ops/token_linear.h"

#include "ops/half_weights.h"
#include "token_linear_abi.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
uint32_t quads(uint32_t n) { return (n + 3) / 4; }
}  // namespace

std::vector<float> pack_token_linear_weight(std::span<const float> weight, uint32_t t_out, uint32_t t_in) {
  const size_t padded = size_t(quads(t_in)) * 4;
  std::vector<float> packed(t_out * padded, 0.0f);
  for (uint32_t row = 0; row < t_out; ++row)
    for (uint32_t t = 0; t < t_in; ++t) packed[row * padded + t] = weight[size_t(row) * t_in + t];
  return packed;
}

std::vector<float> pack_token_linear_token_parameters(std::span<const float> bias,
                                                      std::span<const float> weight, uint32_t t_out,
                                                      uint32_t t_in) {
  std::vector<float> packed(2 * size_t(t_out), 0.0f);
  for (uint32_t row = 0; row < t_out; ++row) {
    double sum = 0;
    for (uint32_t t = 0; t < t_in; ++t) sum += weight[size_t(row) * t_in + t];
    packed[row] = bias.empty() ? 0.0f : bias[row];
    packed[t_out + row] = static_cast<float>(sum);
  }
  return packed;
}

std::vector<float> pack_token_linear_channel_parameters(std::span<const float> input_scale,
                                                        std::span<const float> input_shift,
                                                        std::span<const float> output_scale, uint32_t c) {
  const size_t padded = size_t(quads(c)) * 4;
  std::vector<float> packed(3 * padded, 0.0f);
  for (uint32_t i = 0; i < c; ++i) {
    packed[i] = input_scale.empty() ? 1.0f : input_scale[i];
    packed[padded + i] = input_shift.empty() ? 0.0f : input_shift[i];
    packed[2 * padded + i] = output_scale.empty() ? 1.0f : output_scale[i];
  }
  return packed;
}

bool token_linear_texel_supported(const DeviceInfo& device, const TokenLinearShape& s) {
  const uint64_t input_texels = uint64_t(s.batch) * s.t_in * s.c / 4,
                 weight_texels = uint64_t(s.t_out) * quads(s.t_in);
  return device.texel_buffer_rgba32f && s.c % 4 == 0 && input_texels <= device.max_texel_buffer_elements &&
         weight_texels <= device.max_texel_buffer_elements;
}

bool token_linear_uses_texel_path(const DeviceInfo& device, const TokenLinearShape& shape,
                                  TokenLinearOperands operands) {
  return operands == TokenLinearOperands::Texel ||
         (operands == TokenLinearOperands::Auto && token_linear_texel_supported(device, shape));
}

vk::Dispatch token_linear(const DeviceInfo& device, const TokenLinearShape& s,
                          const TokenLinearEpilogue& epilogue, const TokenLinearBuffers& buffers,
                          TokenLinearOperands operands, bool half_weights) {
  if (s.batch == 0 || s.t_in == 0 || s.t_out == 0 || s.c == 0)
    throw Error("token_linear: empty shape (batch " + std::to_string(s.batch) + ", tokens " +
                std::to_string(s.t_in) + " -> " + std::to_string(s.t_out) + ", channels " +
                std::to_string(s.c) + ")");
  const bool texel = token_linear_uses_texel_path(device, s, operands);
  if (texel && !token_linear_texel_supported(device, s))
    throw Error("token_linear: the texel-buffer path needs C % 4 == 0 and RGBA32F texel buffers (C = " +
                std::to_string(s.c) + ")");
  constexpr uint32_t kRows = TOKEN_LINEAR_ROWS, kQuads = TOKEN_LINEAR_QUADS;
  const uint32_t c4 = quads(s.c);
  const uint64_t tiles = uint64_t((s.t_out + kRows - 1) / kRows) * ((c4 + kQuads - 1) / kQuads);
  const uint64_t elements = uint64_t(s.batch) * s.t_in * s.c, outputs = uint64_t(s.batch) * s.t_out * s.c;
  if (uint64_t(s.batch) * tiles > 0xffffffffull || elements > 0xffffffffull || outputs > 0xffffffffull)
    throw Error("token_linear: the shape exceeds 32-bit indexing");
  const abi::TokenLinearPush push{s.batch, s.t_in,        s.t_out,         s.c,
                                  c4,      quads(s.t_in), uint32_t(tiles), uint32_t(elements - 1)};
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::token_linear_texel : vk::ShaderId::token_linear;
  dispatch.texel = texel ? 0b11u : 0u;
  dispatch.specialization = {static_cast<int32_t>(epilogue.activation),
                             buffers.residual ? 1 : 0,
                             epilogue.bias ? 1 : 0,
                             epilogue.input_scale ? 1 : 0,
                             epilogue.input_shift ? 1 : 0,
                             epilogue.output_scale ? 1 : 0,
                             buffers.gate ? 1 : 0};
  // Without a gate or residual the binding still needs a valid buffer; the shader never reads it.
  dispatch.buffers = {buffers.input,
                      buffers.weight,
                      buffers.token_parameters,
                      buffers.channel_parameters,
                      buffers.output,
                      buffers.gate.value_or(buffers.input),
                      buffers.residual.value_or(buffers.input)};
  dispatch.written = 1u << 4;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(uint64_t(s.batch) * tiles, TOKEN_LINEAR_LOCAL_SIZE_X, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
