#version 450
// Swin window attention fused with its output projection (and the block's residual): the GPU-class
// plan's one dispatch for `x + proj(attention(qkv))`. Attention semantics (shift, padding, mask,
// position bias, v2 cosine scaling, online softmax) are window_attention.comp's; see there.
//
// A workgroup owns QUERY_TILE query tokens of one window. Phase 1 computes every head's attention for
// them, one (head, query) pair per invocation, into shared memory: QUERY_TILE rows of all C channels,
// which is what the projection needs and what a per-head kernel cannot have. Phase 2 multiplies that
// tile by the projection weight (gemm.comp's packed [C, C4*4] layout), 4 rows x 4 columns per
// invocation, adds bias and residual, and writes the tokens back in natural [N, H, W, C] order.
// The attention output never goes through global memory. On lavapipe shared memory is emulated and
// the separate kernels are faster (LAVAPIPE.md), so only GPU-class plans fuse (graph/plan.cpp).
#extension GL_GOOGLE_include_directive : require
#include "window_attention_projection_abi.h"
layout(local_size_x = WINDOW_ATTENTION_PROJECTION_LOCAL_SIZE_X) in;
#include "common.glsl"

layout(constant_id = 0) const int HEAD_DIM4 = 8;     // head_dim / 4
layout(constant_id = 1) const bool COSINE = false;
layout(constant_id = 2) const int QUERY_TILE = 8;    // queries per workgroup, a multiple of 4
layout(constant_id = 3) const int CHANNELS4 = 24;    // C / 4
layout(constant_id = 4) const bool HAS_RESIDUAL = true;

layout(binding = 0) readonly buffer Qkv { vec4 qkv[]; };                 // [N, H, W, 3C] as vec4
layout(binding = 1) readonly buffer QkvBias { vec4 qkv_bias[]; };        // [3C]: q/k/v of a padded token
layout(binding = 2) readonly buffer Bias { float position_bias[]; };     // [heads, T, T]
layout(binding = 3) readonly buffer HeadScale { float head_scale[]; };   // [heads]
layout(binding = 4) readonly buffer ProjWeight { vec4 proj_weight[]; };  // [C, C4] vec4: row k, column quad
layout(binding = 5) readonly buffer ProjBias { vec4 proj_bias[]; };      // [C4]
layout(binding = 6) readonly buffer Residual { vec4 residual[]; };       // [N, H, W, C] as vec4
layout(binding = 7) writeonly buffer Output { vec4 y[]; };               // [N, H, W, C] as vec4

shared vec4 attended[QUERY_TILE * CHANNELS4];  // row r, channel quad c at r * CHANNELS4 + c

#define LOAD_QKV(index) qkv[index]
#include "window.glsl"

void main() {
  const uint tile = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (tile >= p.tiles) return;  // uniform per workgroup: no barrier is skipped by only some invocations
  const uint T = p.window * p.window;
  const uint windows_w = p.padded_w / p.window, windows = (p.padded_h / p.window) * windows_w;
  const uint query_tile = tile % p.query_tiles, window_index = (tile / p.query_tiles) % windows;
  const uint n = tile / (p.query_tiles * windows);
  const uint row0 = (window_index / windows_w) * p.window, col0 = (window_index % windows_w) * p.window;
  const uint first_query = query_tile * QUERY_TILE;
  const uint t = gl_LocalInvocationID.x;

  // Phase 1: attention of every (head, query) pair of the tile. Rows past T are zero; their
  // projections are computed and never stored.
  for (uint item = t; item < p.heads * QUERY_TILE; item += gl_WorkGroupSize.x) {
    const uint head = item / QUERY_TILE, row = item % QUERY_TILE, query = first_query + row;
    if (query >= T) {
      [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d)
        attended[row * CHANNELS4 + head * HEAD_DIM4 + d] = vec4(0.0);
      continue;
    }
    const uint qr = row0 + query / p.window, qc = col0 + query % p.window;
    const uint query_region = region_of(qr, qc);
    vec4 q[HEAD_DIM4], acc[HEAD_DIM4];
    load_head(source_token(n, qr, qc), 0, head, q);
    if (COSINE) normalize_head(q);
    const float scale = head_scale[head];
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) {
      q[d] *= scale;
      acc[d] = vec4(0.0);
    }
    float running_max = -3.402823e38, running_sum = 0.0;
    const uint bias_row = (head * T + query) * T;
    for (uint key = 0; key < T; ++key) {
      const uint kr = row0 + key / p.window, kc = col0 + key % p.window;
      const int key_token = source_token(n, kr, kc);
      vec4 k[HEAD_DIM4], v[HEAD_DIM4];
      load_head(key_token, 1, head, k);
      if (COSINE) normalize_head(k);
      load_head(key_token, 2, head, v);
      float score = position_bias[bias_row + key];
      [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) score += dot(q[d], k[d]);
      if (region_of(kr, kc) != query_region) score -= 100.0;
      const float new_max = max(running_max, score);
      const float rescale = exp(running_max - new_max), weight = exp(score - new_max);
      running_sum = running_sum * rescale + weight;
      running_max = new_max;
      [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) acc[d] = acc[d] * rescale + weight * v[d];
    }
    const float inverse_sum = 1.0 / running_sum;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d)
      attended[row * CHANNELS4 + head * HEAD_DIM4 + d] = acc[d] * inverse_sum;
  }
  barrier();

  // Phase 2: the projection, 4 rows x one column quad per item.
  const uint row_groups = QUERY_TILE / 4;
  for (uint item = t; item < row_groups * CHANNELS4; item += gl_WorkGroupSize.x) {
    const uint quad = item % CHANNELS4, first_row = (item / CHANNELS4) * 4;
    vec4 out4[4];
    [[unroll]] for (uint r = 0; r < 4; ++r) out4[r] = proj_bias[quad];
    for (uint k4 = 0; k4 < CHANNELS4; ++k4) {
      const uint w_row = 4 * k4 * CHANNELS4 + quad;
      const vec4 w0 = proj_weight[w_row], w1 = proj_weight[w_row + CHANNELS4],
                 w2 = proj_weight[w_row + 2 * CHANNELS4], w3 = proj_weight[w_row + 3 * CHANNELS4];
      [[unroll]] for (uint r = 0; r < 4; ++r) {
        const vec4 a = attended[(first_row + r) * CHANNELS4 + k4];
        out4[r] += a.x * w0 + a.y * w1 + a.z * w2 + a.w * w3;
      }
    }
    [[unroll]] for (uint r = 0; r < 4; ++r) {
      const uint query = first_query + first_row + r;
      if (query >= T) continue;
      const int token = source_token(n, row0 + query / p.window, col0 + query % p.window);
      if (token < 0) continue;  // padding is cropped away
      const uint index = uint(token) * CHANNELS4 + quad;
      y[index] = HAS_RESIDUAL ? out4[r] + residual[index] : out4[r];
    }
  }
}
