#include "ops/grn.h"

#include "grn_scale_abi.h"
#include "ops/mean_pool.h"

namespace vkvision::ops {

// mean_pool.comp's L2_NORM variant: the same bindings, push constants and grid as the mean pool.
vk::Dispatch spatial_l2_norm(const DeviceInfo& device, uint32_t n, uint32_t pixels, uint32_t channels,
                             const vk::BufferSlice& input, const vk::BufferSlice& output) {
  vk::Dispatch dispatch = mean_pool(device, n, pixels, channels, input, output);
  dispatch.shader = vk::ShaderId::spatial_l2_norm;
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
