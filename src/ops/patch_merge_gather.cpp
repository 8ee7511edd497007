#include "ops/patch_merge_gather.h"

#include "patch_merge_gather_abi.h"

namespace vkvision::ops {

vk::Dispatch patch_merge_gather(const DeviceInfo& device, uint32_t n, uint32_t h, uint32_t w, uint32_t c,
                                const vk::BufferSlice& input, const vk::BufferSlice& output) {
  const abi::PatchMergeGatherPush push{n, h, w, c};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::patch_merge_gather;
  dispatch.buffers = {input, output};
  dispatch.written = 1u << 1;
  dispatch.set_push(push);
  const uint64_t outputs = uint64_t(n) * ((h + 1) / 2) * ((w + 1) / 2) * 4 * c;
  dispatch.groups = vk::groups_for(outputs, PATCH_MERGE_GATHER_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
