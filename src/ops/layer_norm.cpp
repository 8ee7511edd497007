#include "ops/layer_norm.h"

#include <algorithm>
#include <string>

#include "layer_norm_abi.h"
#include "vkvision/error.h"

namespace vkvision::ops {

std::vector<float> pack_layer_norm_affine(std::span<const float> gamma, std::span<const float> beta) {
  std::vector<float> packed(gamma.begin(), gamma.end());
  packed.insert(packed.end(), beta.begin(), beta.end());
  return packed;
}

vk::Dispatch layer_norm(const DeviceInfo& device, uint32_t rows, uint32_t channels, float eps,
                        const vk::BufferSlice& input, const vk::BufferSlice& affine,
                        const vk::BufferSlice& output, const std::optional<vk::BufferSlice>& residual,
                        const std::optional<PatchGather>& gather) {
  uint64_t input_values = uint64_t(rows) * channels;
  if (gather) {
    if (channels % 4 != 0 || uint64_t(gather->n) * ((gather->h + 1) / 2) * ((gather->w + 1) / 2) != rows)
      throw Error("layer_norm: a 2x2 gather of " + std::to_string(gather->n) + "x" +
                  std::to_string(gather->h) + "x" + std::to_string(gather->w) + " does not give " +
                  std::to_string(rows) + " rows of " + std::to_string(channels) + " channels");
    input_values = uint64_t(gather->n) * gather->h * gather->w * (channels / 4);
  }
  const abi::LayerNormPush push{rows, channels, eps, gather ? gather->h : 0, gather ? gather->w : 0};
  // Texel path: whole vec4 loads (C % 4 == 0, and each gathered part too) within the device's
  // texel-buffer limit.
  const uint32_t part = gather ? channels / 4 : channels;
  const uint64_t texels = std::max(input_values, uint64_t(rows) * channels) / 4;
  const bool texel =
      device.texel_buffer_rgba32f && part % 4 == 0 && texels <= device.max_texel_buffer_elements;
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::layer_norm_texel : vk::ShaderId::layer_norm;
  dispatch.texel = texel ? 0b1011u : 0u;  // input, affine, residual
  dispatch.specialization = {residual ? 1 : 0, gather ? 1 : 0};
  // Without a residual the binding still needs a valid buffer; the shader never reads it.
  dispatch.buffers = {input, affine, output, residual.value_or(input)};
  dispatch.written = 1u << 2;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(rows, LAYER_NORM_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
