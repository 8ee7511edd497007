#include "ops/mean_pool.h"

#include "mean_pool_abi.h"

namespace vkvision::ops {

vk::Dispatch mean_pool(const DeviceInfo& device, uint32_t n, uint32_t pixels, uint32_t channels,
                       const vk::BufferSlice& input, const vk::BufferSlice& output) {
  const abi::MeanPoolPush push{n, pixels, channels};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::mean_pool;
  dispatch.buffers = {input, output};
  dispatch.written = 1u << 1;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(static_cast<uint64_t>(n) * channels, MEAN_POOL_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
