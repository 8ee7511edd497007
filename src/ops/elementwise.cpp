#include "ops/elementwise.h"

namespace vkvision::ops {

vk::Dispatch elementwise(const DeviceInfo& device, ElementwiseMode mode, uint32_t count, uint32_t channels,
                         const vk::BufferSlice& a, const vk::BufferSlice& b, const vk::BufferSlice& output,
                         uint32_t image) {
  const abi::ElementwisePush push{count, channels, image};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::elementwise;
  dispatch.specialization = {static_cast<int32_t>(mode)};
  dispatch.buffers = {a, b, output};
  dispatch.written = 1u << 2;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(count, ELEMENTWISE_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
