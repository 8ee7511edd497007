// Swin PatchMerging's 2x2 gather, [N, H, W, C] -> [N, ceil(H/2), ceil(W/2), 4C]: the reference
// concatenates x0 = (0::2, 0::2), x1 = (1::2, 0::2), x2 = (0::2, 1::2), x3 = (1::2, 1::2) after
// zero-padding odd sizes at the bottom/right (torchvision). Shared by the gather kernel and the
// LayerNorm that reads the gather in place. (graph/passes.cpp folds the same order into a 2x2 conv.)

// The input pixel (n * H + h) * W + w that part `part` (0..3) of gathered pixel `pixel` reads, or -1
// where that part is padding.
int patch_gather_source(uint pixel, uint part, uint H, uint W) {
  const uint OW = (W + 1) / 2, OH = (H + 1) / 2;
  const uint ow = pixel % OW, oh = (pixel / OW) % OH, n = pixel / (OW * OH);
  const uint h = 2 * oh + (part & 1u), w = 2 * ow + (part >> 1);
  if (h >= H || w >= W) return -1;
  return int((n * H + h) * W + w);
}
