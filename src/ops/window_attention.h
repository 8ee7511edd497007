// Swin's shifted-window attention as one kernel (shaders/window_attention.comp), and with the
// output projection fused (shaders/window_attention_projection.comp).
#pragma once
#include <optional>

#include "vk/program.h"

namespace vkvision::ops {

struct WindowAttentionShape {
  uint32_t n = 1, h = 0, w = 0, c = 0;  // tokens [N, H, W, C]
  uint32_t heads = 1;
  uint32_t window = 7;
  uint32_t shift = 0;   // requested shift (window / 2 on odd blocks)
  bool cosine = false;  // Swin v2 scaled cosine attention

  uint32_t padded_h() const { return (h + window - 1) / window * window; }
  uint32_t padded_w() const { return (w + window - 1) / window * window; }
  // torchvision: no shift along a dimension the window already covers.
  uint32_t shift_h() const { return window >= padded_h() ? 0 : shift; }
  uint32_t shift_w() const { return window >= padded_w() ? 0 : shift; }
};

// qkv: [N, H, W, 3C] from the qkv linear; qkv_bias: [3C]; position_bias: [heads, T, T] (T = window^2);
// head_scale: [heads] (head_dim^-0.5, or v2's exp(min(logit_scale, log 100))); output: [N, H, W, C].
// Throws Error unless C and head_dim are multiples of 4 (all Swin configurations are).
vk::Dispatch window_attention(const DeviceInfo& device, const WindowAttentionShape& shape,
                              const vk::BufferSlice& qkv, const vk::BufferSlice& qkv_bias,
                              const vk::BufferSlice& position_bias, const vk::BufferSlice& head_scale,
                              const vk::BufferSlice& output);

// Queries per workgroup of window_attention_projection() on this device: 8, or 4 where 8 rows of C
// floats exceed the device's shared memory; 0 where even 4 do (then the plan keeps the projection a
// separate GEMM).
uint32_t attention_projection_query_tile(const DeviceInfo& device, uint32_t channels);

struct AttentionProjectionBuffers {
  vk::BufferSlice qkv, qkv_bias, position_bias, head_scale;  // as window_attention()
  vk::BufferSlice proj_weight;                               // pack_gemm_weight of the [C, C] projection
  vk::BufferSlice proj_bias;                                 // pack_vec4_padded
  std::optional<vk::BufferSlice> residual;                   // [N, H, W, C], added last
  vk::BufferSlice output;                                    // [N, H, W, C]
};

// output = residual + proj(window_attention(qkv)) in one dispatch (shaders/window_attention_projection.comp),
// the attention tile kept in shared memory. Throws Error where the query tile is 0 for this C.
vk::Dispatch window_attention_projection(const DeviceInfo& device, const WindowAttentionShape& shape,
                                         const AttentionProjectionBuffers& buffers);

}  // namespace vkvision::ops
