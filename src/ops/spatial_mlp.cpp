#include "ops/spatial_mlp.h"

#include "spatial_mlp_abi.h"
#include "vkvision/error.h"

namespace vkvision::ops {

vk::Dispatch spatial_mlp(const DeviceInfo& device, const SpatialMlpShape& s, const vk::BufferSlice& input,
                         const vk::BufferSlice& weight, const vk::BufferSlice& bias,
                         const vk::BufferSlice& output) {
  if (s.heads == 0 || s.c % s.heads != 0 || (s.c / s.heads) % 4 != 0)
    throw Error("spatial MLP needs C / heads to be a multiple of 4 (C " + std::to_string(s.c) + ", heads " +
                std::to_string(s.heads) + ")");
  const abi::SpatialMlpPush push{s.n,      s.h,         s.w,         s.c,          s.heads,
                                 s.window, s.pad_top(), s.pad_top(), s.padded_h(), s.padded_w()};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::spatial_mlp;
  dispatch.buffers = {input, weight, bias, output};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  const uint64_t invocations = uint64_t(s.n) * push.padded_h * push.padded_w * (s.c / 4);
  dispatch.groups = vk::groups_for(invocations, SPATIAL_MLP_LOCAL_SIZE_X, device);
  return dispatch;
}

}  // namespace vkvision::ops
