#include "ops/window_attention.h"

#include "vkvision/error.h"
#include "window_attention_abi.h"
#include "window_attention_projection_abi.h"

namespace vkvision::ops {

vk::Dispatch window_attention(const DeviceInfo& device, const WindowAttentionShape& s,
                              const vk::BufferSlice& qkv, const vk::BufferSlice& qkv_bias,
                              const vk::BufferSlice& position_bias, const vk::BufferSlice& head_scale,
                              const vk::BufferSlice& output) {
  if (s.heads == 0 || s.c % s.heads != 0 || (s.c / s.heads) % 4 != 0)
    throw Error("window attention needs head_dim = C / heads to be a multiple of 4 (C " +
                std::to_string(s.c) + ", heads " + std::to_string(s.heads) + ")");
  const abi::WindowAttentionPush push{s.n,      s.h,         s.w,         s.c,          s.heads,
                                      s.window, s.shift_h(), s.shift_w(), s.padded_h(), s.padded_w()};
  // Texel path: the whole qkv tensor within the device's texel-buffer limit.
  const bool texel = device.texel_buffer_rgba32f &&
                     uint64_t(s.n) * s.h * s.w * 3 * s.c / 4 <= device.max_texel_buffer_elements;
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::window_attention_texel : vk::ShaderId::window_attention;
  dispatch.texel = texel ? 0b1u : 0u;
  dispatch.specialization = {static_cast<int32_t>(s.c / s.heads / 4), s.cosine ? 1 : 0};
  dispatch.buffers = {qkv, qkv_bias, position_bias, head_scale, output};
  dispatch.written = 1u << 4;
  dispatch.set_push(push);
  constexpr uint32_t kQueries = WINDOW_ATTENTION_QUERIES;
  const uint32_t tokens = s.window * s.window,
                 windows = (push.padded_h / s.window) * (push.padded_w / s.window);
  const uint64_t invocations = uint64_t(s.n) * windows * s.heads * ((tokens + kQueries - 1) / kQueries);
  dispatch.groups = vk::groups_for(invocations, WINDOW_ATTENTION_LOCAL_SIZE_X, device);
  return dispatch;
}

uint32_t attention_projection_query_tile(const DeviceInfo& device, uint32_t channels) {
  for (uint32_t tile : {8u, 4u})
    if (uint64_t(tile) * channels * sizeof(float) <= device.max_compute_shared_memory) return tile;
  return 0;
}

vk::Dispatch window_attention_projection(const DeviceInfo& device, const WindowAttentionShape& s,
                                         const AttentionProjectionBuffers& b) {
  if (s.heads == 0 || s.c % s.heads != 0 || (s.c / s.heads) % 4 != 0)
    throw Error("window attention needs head_dim = C / heads to be a multiple of 4 (C " +
                std::to_string(s.c) + ", heads " + std::to_string(s.heads) + ")");
  const uint32_t query_tile = attention_projection_query_tile(device, s.c);
  if (query_tile == 0)
    throw Error("window attention with projection: 4 rows of " + std::to_string(s.c) +
                " channels exceed the device's shared memory");
  const uint32_t tokens = s.window * s.window,
                 windows = (s.padded_h() / s.window) * (s.padded_w() / s.window);
  const uint32_t query_tiles = (tokens + query_tile - 1) / query_tile;
  const abi::WindowAttentionProjectionPush push{
      s.n,         s.h,         s.w,          s.c,          s.heads,     s.window,
      s.shift_h(), s.shift_w(), s.padded_h(), s.padded_w(), query_tiles, s.n * windows * query_tiles};
  constexpr uint32_t kWorkgroup = WINDOW_ATTENTION_PROJECTION_LOCAL_SIZE_X;
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::window_attention_projection;
  dispatch.specialization = {static_cast<int32_t>(s.c / s.heads / 4), s.cosine ? 1 : 0,
                             static_cast<int32_t>(query_tile), static_cast<int32_t>(s.c / 4),
                             b.residual ? 1 : 0};
  // Without a residual the binding still needs a valid buffer; the shader never reads it.
  dispatch.buffers = {b.qkv,
                      b.qkv_bias,
                      b.position_bias,
                      b.head_scale,
                      b.proj_weight,
                      b.proj_bias,
                      b.residual.value_or(b.qkv),
                      b.output};
  dispatch.written = 1u << 7;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(uint64_t(push.tiles) * kWorkgroup, kWorkgroup, device);
  return dispatch;
}

}  // namespace vkvision::ops
