#version 450
// Swin-MLP's window spatial MLP (microsoft/Swin-Transformer swin_mlp.py): within each window and
// head, every token is a learned mix of the window's tokens, y[t] = bias[h,t] + sum_u W[h,t,u] x[u]
// (a grouped 1x1 Conv1d over heads * window^2 channels). Shifted blocks zero-pad the map by
// window - shift at the top/left and shift at the bottom/right instead of rolling, then crop back;
// maps that are not window multiples are padded at the bottom/right as well. Tokens are read and
// written in their natural [N, H, W, C] order. One invocation per (window token, head, 4 channels).
#extension GL_GOOGLE_include_directive : require
#include "spatial_mlp_abi.h"
layout(local_size_x = SPATIAL_MLP_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(binding = 0) readonly buffer Input { vec4 x[]; };        // [N, H, W, C] as vec4
layout(binding = 1) readonly buffer Weight { float weight[]; };  // [heads, T, T]
layout(binding = 2) readonly buffer Bias { float bias[]; };      // [heads, T]
layout(binding = 3) writeonly buffer Output { vec4 y[]; };      // [N, H, W, C] as vec4

// Natural token index behind padded-frame position (r, c), or -1 for padding.
int source_token(uint n, uint r, uint c) {
  int h = int(r) - int(p.pad_top), w = int(c) - int(p.pad_left);
  if (h < 0 || w < 0 || h >= int(p.H) || w >= int(p.W)) return -1;
  return int((n * p.H + uint(h)) * p.W + uint(w));
}

void main() {
  const uint T = p.window * p.window, C4 = p.C / 4, head_dim4 = C4 / p.heads;
  const uint windows_w = p.padded_w / p.window, windows = (p.padded_h / p.window) * windows_w;
  const uint id = LINEAR_INVOCATION_ID;
  const uint d4 = id % head_dim4;
  const uint token = (id / head_dim4) % T;
  const uint head = (id / (head_dim4 * T)) % p.heads;
  const uint window_index = (id / (head_dim4 * T * p.heads)) % windows;
  const uint n = id / (head_dim4 * T * p.heads * windows);
  if (n >= p.N) return;
  const uint row0 = (window_index / windows_w) * p.window, col0 = (window_index % windows_w) * p.window;
  const int target = source_token(n, row0 + token / p.window, col0 + token % p.window);
  if (target < 0) return;  // padding is cropped away

  const uint channel4 = head * head_dim4 + d4;
  vec4 acc = vec4(bias[head * T + token]);
  const uint weight_row = (head * T + token) * T;
  for (uint u = 0; u < T; ++u) {
    const int source = source_token(n, row0 + u / p.window, col0 + u % p.window);
    if (source >= 0) acc += weight[weight_row + u] * x[uint(source) * C4 + channel4];
  }
  y[uint(target) * C4 + channel4] = acc;
}
