// RepMLP's partition layout (DingXiaoH/RepMLP repmlpnet.py, RepMLPBlock). A [N, H, W, C] map is cut
// into P = (H / ph) * (W / pw) patches of ph x pw; channel c belongs to shareset s = c % S and to
// channel group q = c / S (Q = C / S groups). The reference computes on rows ordered
// [N, P, Q, S, ph*pw] and un-partitions by viewing that result as [N*Q, P, S, ph, pw], which is
// the inverse of the partition only when P == 1 or Q == 1: the result of (patch p, group q) lands
// at (patch l % P, group l / P) where l = p * Q + q. Kernels write their outputs there.

// Element offset in [N, H, W, C] of position `pos` (row-major in the patch) of patch `part`, channel c
// (`patch` is a GLSL keyword).
uint patch_offset(uint n, uint part, uint pos, uint c, uint H, uint W, uint C, uint ph, uint pw,
                  uint parts_w) {
  const uint row = (part / parts_w) * ph + pos / pw, col = (part % parts_w) * pw + pos % pw;
  return ((n * H + row) * W + col) * C + c;
}

// Where the reference's un-partition puts the result for (patch, group): returns the target patch
// and group in .x and .y.
uvec2 unpartitioned(uint part, uint group, uint parts, uint groups) {
  const uint l = part * groups + group;
  return uvec2(l % parts, l / parts);
}
