#version 450
// Swin window attention, fused: shift, padding, window partition, QK^T, position bias, shifted-window
// mask, softmax, AV and the reverse, in one pass with no attention matrix in memory.
//
// q, k, v come from the qkv linear run on the tokens in their natural [N, H, W, 3C] order (a per-token
// op commutes with rolling and partitioning), and the output is written back in natural [N, H, W, C]
// order, so the roll/partition/reverse are index arithmetic only (shaders/include/window.glsl); the
// result is rolled back and cropped.
//
// One invocation per (batch, window, head, QUERIES query tokens): each key's k and v are loaded once
// for all its queries (loads, not arithmetic, bound this on lavapipe). Softmax is the online
// (streaming) form: running max and sum rescaled as each key arrives, so it is stable without a
// second pass.
//
//   window_attention:        q/k/v from a storage buffer.
//   window_attention_texel:  q/k/v through an RGBA32F uniform texel buffer (cheaper loads on lavapipe).
// @variant window_attention_texel -DTEXEL_OPERANDS=1
// COSINE (Swin v2): q and k are L2-normalised and the logit scale is per head; v1 scales by
// head_dim^-0.5. Either way the per-head scale arrives precomputed in head_scale[].
#extension GL_GOOGLE_include_directive : require
#include "window_attention_abi.h"
layout(local_size_x = WINDOW_ATTENTION_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(constant_id = 0) const int HEAD_DIM4 = 8;  // head_dim / 4
layout(constant_id = 1) const bool COSINE = false;

#if TEXEL_OPERANDS
layout(binding = 0) uniform samplerBuffer qkv;                    // [N, H, W, 3C] as vec4
#define LOAD_QKV(index) texelFetch(qkv, int(index))
#else
layout(binding = 0) readonly buffer Qkv { vec4 qkv_data[]; };     // [N, H, W, 3C] as vec4
#define LOAD_QKV(index) qkv_data[index]
#endif
layout(binding = 1) readonly buffer QkvBias { vec4 qkv_bias[]; }; // [3C]: q/k/v of a padded token
layout(binding = 2) readonly buffer Bias { float position_bias[]; }; // [heads, T, T], T = window^2
layout(binding = 3) readonly buffer HeadScale { float head_scale[]; };  // [heads]
layout(binding = 4) writeonly buffer Output { vec4 y[]; };       // [N, H, W, C] as vec4

#include "window.glsl"

// Queries per invocation: more amortise the k/v loads but hold more accumulators. Measured on
// lavapipe (swin_t's 12 attention layers, batch 1, texel path): 1 query 87 ms (storage path),
// 2 queries 35 ms, 4 queries 23-25 ms, 8 queries 21-22 ms.
const uint QUERIES = WINDOW_ATTENTION_QUERIES;

void main() {
  const uint T = p.window * p.window, query_groups = (T + QUERIES - 1) / QUERIES;
  const uint windows_w = p.padded_w / p.window, windows = (p.padded_h / p.window) * windows_w;
  const uint id = LINEAR_INVOCATION_ID;
  const uint query_group = id % query_groups;
  const uint head = (id / query_groups) % p.heads;
  const uint window_index = (id / (query_groups * p.heads)) % windows;
  const uint n = id / (query_groups * p.heads * windows);
  if (n >= p.N) return;

  const uint row0 = (window_index / windows_w) * p.window, col0 = (window_index % windows_w) * p.window;
  const float scale = head_scale[head];
  // Queries past T repeat the last one (in bounds) and are not written.
  int query_token[QUERIES];
  uint query_region[QUERIES], bias_row[QUERIES];
  vec4 q[QUERIES][HEAD_DIM4], acc[QUERIES][HEAD_DIM4];
  float running_max[QUERIES], running_sum[QUERIES];
  [[unroll]] for (uint i = 0; i < QUERIES; ++i) {
    const uint query = min(query_group * QUERIES + i, T - 1);
    const uint qr = row0 + query / p.window, qc = col0 + query % p.window;
    query_token[i] = source_token(n, qr, qc);
    query_region[i] = region_of(qr, qc);
    bias_row[i] = (head * T + query) * T;
    load_head(query_token[i], 0, head, q[i]);
    if (COSINE) normalize_head(q[i]);
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) q[i][d] *= scale;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) acc[i][d] = vec4(0.0);
    running_max[i] = -3.402823e38;
    running_sum[i] = 0.0;
  }
  for (uint key = 0; key < T; ++key) {
    const uint kr = row0 + key / p.window, kc = col0 + key % p.window;
    const int key_token = source_token(n, kr, kc);
    const uint key_region = region_of(kr, kc);
    vec4 k[HEAD_DIM4], v[HEAD_DIM4];
    load_head(key_token, 1, head, k);
    if (COSINE) normalize_head(k);
    load_head(key_token, 2, head, v);
    [[unroll]] for (uint i = 0; i < QUERIES; ++i) {
      float score = 0.0;
      [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) score += dot(q[i][d], k[d]);
      score += position_bias[bias_row[i] + key];
      if (key_region != query_region[i]) score -= 100.0;
      const float new_max = max(running_max[i], score);
      const float rescale = exp(running_max[i] - new_max), weight = exp(score - new_max);
      running_sum[i] = running_sum[i] * rescale + weight;
      running_max[i] = new_max;
      [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) acc[i][d] = acc[i][d] * rescale + weight * v[d];
    }
  }
  [[unroll]] for (uint i = 0; i < QUERIES; ++i) {
    // Padded positions are cropped away and queries past T do not exist: only real tokens are written.
    if (query_token[i] < 0 || query_group * QUERIES + i >= T) continue;
    const float inverse_sum = 1.0 / running_sum[i];
    const uint out_base = uint(query_token[i]) * (p.C / 4) + head * HEAD_DIM4;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) y[out_base + d] = acc[i][d] * inverse_sum;
  }
}
