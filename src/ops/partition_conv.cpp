#include "ops/partition_conv.h"

#include "partition_conv_abi.h"
#include "vkvision/error.h"

namespace vkvision::ops {

vk::Dispatch partition_conv(const DeviceInfo& device, const PartitionShape& s, uint32_t kh, uint32_t kw,
                            const vk::BufferSlice& input, const vk::BufferSlice& weight,
                            const vk::BufferSlice& bias, const vk::BufferSlice& output) {
  check_partition_shape(s);
  if (kh % 2 == 0 || kw % 2 == 0)
    throw Error("partition conv needs odd kernels, got " + std::to_string(kh) + "x" + std::to_string(kw));
  const abi::PartitionConvPush push{s.n, s.h, s.w, s.c, s.ph, s.pw, s.sharesets, kh, kw};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::partition_conv;
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(uint64_t(s.n) * s.h * s.w * s.c, PARTITION_CONV_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
