#include "ops/grn.h"

#include "grn_scale_abi.h"
#include "mean_pool_abi.h"

namespace vkvision::ops {

vk::Dispatch spatial_l2_norm(const DeviceInfo& device, uint32_t n, uint32_t pixels, uint32_t channels,
                             const vk::BufferSlice& input, const vk::BufferSlice& output) {
  const abi::MeanPoolPush push{n, pixels, channels};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::spatial_l2_norm;
  dispatch.buffers = {input, output};
  dispatch.written = 1u << 1;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(static_cast<uint64_t>(n) * channels, MEAN_POOL_LOCAL_SIZE_X, device);
  return dispatch;
}

vk::Dispatch grn_scale(const DeviceInfo& device, uint32_t n, uint32_t channels, float eps,
                       const vk::BufferSlice& norms, const vk::BufferSlice& gamma,
                       const vk::BufferSlice& scale) {
  const abi::GrnScalePush push{n, channels, eps};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::grn_scale;
  dispatch.buffers = {norms, gamma, scale};
  dispatch.written = 1u << 2;
  dispatch.set_push(push);
  // One workgroup per image.
  dispatch.groups =
      vk::groups_for(static_cast<uint64_t>(n) * GRN_SCALE_LOCAL_SIZE_X, GRN_SCALE_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
