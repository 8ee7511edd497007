#version 450
// Swin window attention, fused: shift, padding, window partition, QK^T, position bias, shifted-window
// mask, softmax, AV and the reverse, in one pass with no attention matrix in memory.
//
// q, k, v come from the qkv linear run on the tokens in their natural [N, H, W, 3C] order (a per-token
// op commutes with rolling and partitioning), and the output is written back in natural [N, H, W, C]
// order, so the roll/partition/reverse are index arithmetic only. Semantics follow torchvision's
// shifted_window_attention: the map is zero-padded to window multiples after norm1 (a padded
// token's q/k/v are therefore the qkv bias), rolled by -shift, split into windows; tokens from
// different regions of a shifted window are masked with -100; the result is rolled back and cropped.
//
// One invocation per (batch, window, head, query token); softmax is the online (streaming) form:
// running max and sum rescaled as each key arrives, so it is stable without a second pass.
// COSINE (Swin v2): q and k are L2-normalised and the logit scale is per head; v1 scales by
// head_dim^-0.5. Either way the per-head scale arrives precomputed in head_scale[].
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 64) in;
#include "common.glsl"

layout(constant_id = 0) const int HEAD_DIM4 = 8;  // head_dim / 4
layout(constant_id = 1) const bool COSINE = false;

layout(binding = 0) readonly buffer Qkv { vec4 qkv[]; };          // [N, H, W, 3C] as vec4
layout(binding = 1) readonly buffer QkvBias { vec4 qkv_bias[]; }; // [3C]: q/k/v of a padded token
layout(binding = 2) readonly buffer Bias { float position_bias[]; }; // [heads, T, T], T = window^2
layout(binding = 3) readonly buffer HeadScale { float head_scale[]; };  // [heads]
layout(binding = 4) writeonly buffer Output { vec4 y[]; };       // [N, H, W, C] as vec4

layout(push_constant) uniform Params {
  uint N, H, W, C;
  uint heads, window, shift_h, shift_w;
  uint padded_h, padded_w;
} p;

// The natural-order token index behind position (r, c) of the rolled, padded map, or -1 for padding.
int source_token(uint n, uint r, uint c, uint shift_h, uint shift_w) {
  uint h = (r + shift_h) % p.padded_h, w = (c + shift_w) % p.padded_w;
  if (h >= p.H || w >= p.W) return -1;
  return int((n * p.H + h) * p.W + w);
}

// Region of a rolled-map coordinate for the shifted-window mask (torchvision's three slices).
uint region(uint coordinate, uint size, uint shift) {
  if (shift == 0) return 0;
  return coordinate < size - p.window ? 0 : (coordinate < size - shift ? 1 : 2);
}

void load_head(int token, uint part, uint head, out vec4 value[HEAD_DIM4]) {
  const uint C4 = p.C / 4;
  const uint offset = part * C4 + head * HEAD_DIM4;
  if (token < 0) {
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] = qkv_bias[offset + d];
  } else {
    const uint base = uint(token) * 3 * C4 + offset;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] = qkv[base + d];
  }
}

void normalize_head(inout vec4 value[HEAD_DIM4]) {
  float sum = 0.0;
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) sum += dot(value[d], value[d]);
  const float inverse = 1.0 / max(sqrt(sum), 1e-12);  // F.normalize(eps=1e-12)
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] *= inverse;
}

void main() {
  const uint T = p.window * p.window;
  const uint windows_w = p.padded_w / p.window, windows = (p.padded_h / p.window) * windows_w;
  const uint id = LINEAR_INVOCATION_ID;
  const uint query = id % T;
  const uint head = (id / T) % p.heads;
  const uint window_index = (id / (T * p.heads)) % windows;
  const uint n = id / (T * p.heads * windows);
  if (n >= p.N) return;

  const uint row0 = (window_index / windows_w) * p.window, col0 = (window_index % windows_w) * p.window;
  const uint qr = row0 + query / p.window, qc = col0 + query % p.window;
  const int query_token = source_token(n, qr, qc, p.shift_h, p.shift_w);
  const uint query_region = region(qr, p.padded_h, p.shift_h) * 3 + region(qc, p.padded_w, p.shift_w);

  vec4 q[HEAD_DIM4];
  load_head(query_token, 0, head, q);
  if (COSINE) normalize_head(q);
  const float scale = head_scale[head];
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) q[d] *= scale;

  vec4 acc[HEAD_DIM4];
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) acc[d] = vec4(0.0);
  float running_max = -3.402823e38, running_sum = 0.0;
  const uint bias_row = (head * T + query) * T;
  for (uint key = 0; key < T; ++key) {
    const uint kr = row0 + key / p.window, kc = col0 + key % p.window;
    const int key_token = source_token(n, kr, kc, p.shift_h, p.shift_w);
    vec4 k[HEAD_DIM4];
    load_head(key_token, 1, head, k);
    if (COSINE) normalize_head(k);
    float score = 0.0;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) score += dot(q[d], k[d]);
    score += position_bias[bias_row + key];
    if (region(kr, p.padded_h, p.shift_h) * 3 + region(kc, p.padded_w, p.shift_w) != query_region) score -= 100.0;

    const float new_max = max(running_max, score);
    const float rescale = exp(running_max - new_max), weight = exp(score - new_max);
    running_sum = running_sum * rescale + weight;
    running_max = new_max;
    vec4 v[HEAD_DIM4];
    load_head(key_token, 2, head, v);
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) acc[d] = acc[d] * rescale + weight * v[d];
  }
  // Padded positions are cropped away: only real tokens are written.
  if (query_token < 0) return;
  const float inverse_sum = 1.0 / running_sum;
  const uint out_base = uint(query_token) * (p.C / 4) + head * HEAD_DIM4;
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) y[out_base + d] = acc[d] * inverse_sum;
}
