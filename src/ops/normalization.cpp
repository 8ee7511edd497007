#include "ops/normalization.h"

namespace vkvision::ops {

std::vector<float> pack_layer_norm_affine(std::span<const float> gamma, std::span<const float> beta) {
  std::vector<float> packed(gamma.begin(), gamma.end());
  packed.insert(packed.end(), beta.begin(), beta.end());
  return packed;
}

vk::Dispatch layer_norm(const DeviceInfo& device, uint32_t rows, uint32_t channels, float eps,
                        const vk::BufferSlice& input, const vk::BufferSlice& affine, const vk::BufferSlice& output,
                        const std::optional<vk::BufferSlice>& residual) {
  struct {
    uint32_t rows, channels;
    float eps;
  } push{rows, channels, eps};
  // Texel path: whole vec4 rows (C % 4 == 0) within the device's texel-buffer limit.
  const uint64_t texels = uint64_t(rows) * channels / 4;
  const bool texel = device.texel_buffer_rgba32f && channels % 4 == 0 && texels <= device.max_texel_buffer_elements;
  vk::Dispatch dispatch;
  dispatch.shader = texel ? "layer_norm_texel" : "layer_norm";
  dispatch.texel = texel ? 0b1011u : 0u;  // input, affine, residual
  dispatch.specialization = {residual ? 1 : 0};
  // Without a residual the binding still needs a valid buffer; the shader never reads it.
  dispatch.buffers = {input, affine, output, residual.value_or(input)};
  dispatch.written = 1u << 2;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(rows, 64, device);
  return dispatch;
}

}  // namespace vkvision::ops
