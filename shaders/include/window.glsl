// Shifted-window indexing and per-head q/k/v loads shared by the window-attention kernels.
// The including shader declares HEAD_DIM4, the push constants p (N, H, W, C, heads, window, shift_h,
// shift_w, padded_h, padded_w), qkv_bias[] and LOAD_QKV(index) (a vec4 of the [N, H, W, 3C] qkv).
//
// Semantics follow torchvision's shifted_window_attention: the map is zero-padded to window
// multiples after norm1 (a padded token's q/k/v are therefore the qkv bias), rolled by -shift and
// split into windows; tokens from different regions of a shifted window are masked with -100.

// The natural-order token index behind position (r, c) of the rolled, padded map, or -1 for padding.
int source_token(uint n, uint r, uint c) {
  uint h = (r + p.shift_h) % p.padded_h, w = (c + p.shift_w) % p.padded_w;
  if (h >= p.H || w >= p.W) return -1;
  return int((n * p.H + h) * p.W + w);
}

// Region of a rolled-map coordinate for the shifted-window mask (torchvision's three slices).
uint region(uint coordinate, uint size, uint shift) {
  if (shift == 0) return 0;
  return coordinate < size - p.window ? 0 : (coordinate < size - shift ? 1 : 2);
}

uint region_of(uint r, uint c) {
  return region(r, p.padded_h, p.shift_h) * 3 + region(c, p.padded_w, p.shift_w);
}

// part 0, 1, 2: q, k, v of one head of `token` (the qkv bias for a padded position).
void load_head(int token, uint part, uint head, out vec4 value[HEAD_DIM4]) {
  const uint C4 = p.C / 4;
  const uint offset = part * C4 + head * HEAD_DIM4;
  if (token < 0) {
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] = qkv_bias[offset + d];
  } else {
    const uint base = uint(token) * 3 * C4 + offset;
    [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] = LOAD_QKV(base + d);
  }
}

// Swin v2's cosine attention: F.normalize(eps=1e-12) of q and k.
void normalize_head(inout vec4 value[HEAD_DIM4]) {
  float sum = 0.0;
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) sum += dot(value[d], value[d]);
  const float inverse = 1.0 / max(sqrt(sum), 1e-12);
  [[unroll]] for (int d = 0; d < HEAD_DIM4; ++d) value[d] *= inverse;
}
