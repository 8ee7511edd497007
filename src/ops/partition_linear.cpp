#include "ops/partition_linear.h"

#include "ops/half_weights.h"
#include "partition_linear_abi.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
uint32_t quads(uint32_t n) { return (n + 3) / 4; }
}  // namespace

std::vector<float> pack_partition_weight(std::span<const float> weight, const PartitionShape& shape) {
  const uint32_t hw = shape.positions(), padded = quads(hw) * 4;
  std::vector<float> packed(size_t(shape.sharesets) * hw * padded, 0.0f);
  for (uint32_t s = 0; s < shape.sharesets; ++s)
    for (uint32_t i = 0; i < hw; ++i)
      for (uint32_t j = 0; j < hw; ++j)
        packed[(size_t(s) * hw + j) * padded + i] = weight[(size_t(s) * hw + i) * hw + j];
  return packed;
}

std::vector<float> pack_partition_bias(std::span<const float> bias, std::span<const float> weight,
                                       const PartitionShape& shape) {
  const uint32_t hw = shape.positions(), padded = quads(hw) * 4;
  const size_t half = size_t(shape.sharesets) * padded;
  std::vector<float> packed(2 * half, 0.0f);
  for (uint32_t s = 0; s < shape.sharesets; ++s)
    for (uint32_t i = 0; i < hw; ++i) {
      const size_t row = size_t(s) * hw + i;
      double sum = 0;
      for (uint32_t j = 0; j < hw; ++j) sum += weight[row * hw + j];
      packed[size_t(s) * padded + i] = bias.empty() ? 0.0f : bias[row];
      packed[half + size_t(s) * padded + i] = static_cast<float>(sum);
    }
  return packed;
}

std::vector<float> pack_partition_affine(std::span<const float> scale, std::span<const float> shift,
                                         uint32_t channels) {
  std::vector<float> packed(2 * size_t(channels), 0.0f);
  for (uint32_t c = 0; c < channels; ++c) {
    packed[c] = scale.empty() ? 1.0f : scale[c];
    packed[channels + c] = shift.empty() ? 0.0f : shift[c];
  }
  return packed;
}

vk::Dispatch partition_linear(const DeviceInfo& device, const PartitionShape& s,
                              const PartitionLinearBuffers& buffers, bool half_weights) {
  check_partition_shape(s);
  const uint32_t columns = s.n * (s.h / s.ph) * (s.w / s.pw) * (s.c / s.sharesets);
  const abi::PartitionLinearPush push{
      s.n, s.h, s.w, s.c, s.ph, s.pw, s.sharesets, quads(s.positions()), columns, quads(columns)};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::partition_linear;
  dispatch.specialization = {buffers.gate ? 1 : 0, buffers.residual ? 1 : 0};
  // Unused gate and residual bindings still need a valid buffer; the shader never reads them.
  dispatch.buffers = {buffers.input,
                      buffers.weight,
                      buffers.bias_rowsum,
                      buffers.affine,
                      buffers.gate.value_or(buffers.input),
                      buffers.residual.value_or(buffers.input),
                      buffers.output};
  dispatch.written = 1u << 6;
  dispatch.set_push(push);
  constexpr uint32_t kQuads = PARTITION_LINEAR_QUADS;
  const uint64_t invocations = uint64_t(s.sharesets) * ((push.hw4 + kQuads - 1) / kQuads) * push.column4;
  dispatch.groups = vk::groups_for(invocations, PARTITION_LINEAR_LOCAL_SIZE_X, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
