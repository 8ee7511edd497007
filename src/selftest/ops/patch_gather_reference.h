// torchvision's PatchMerging gather as the tests' reference: pad H and W to even, then concatenate
// x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] along channels ([N, H, W, C] ->
// [N, ceil(H/2), ceil(W/2), 4C]).
#pragma once
#include <cstdint>
#include <vector>

namespace vkvision::selftest {

inline std::vector<float> patch_gather_reference(uint32_t n, uint32_t h, uint32_t w, uint32_t c,
                                                 const std::vector<float>& x) {
  const uint32_t oh = (h + 1) / 2, ow = (w + 1) / 2;
  std::vector<float> y(size_t(n) * oh * ow * 4 * c);
  for (uint32_t b = 0; b < n; ++b)
    for (uint32_t i = 0; i < oh; ++i)
      for (uint32_t j = 0; j < ow; ++j)
        for (uint32_t part = 0; part < 4; ++part)
          for (uint32_t ch = 0; ch < c; ++ch) {
            const uint32_t si = 2 * i + (part & 1), sj = 2 * j + (part >> 1);
            y[(((size_t(b) * oh + i) * ow + j) * 4 + part) * c + ch] =
                si < h && sj < w ? x[((size_t(b) * h + si) * w + sj) * c + ch] : 0.0f;
          }
  return y;
}

}  // namespace vkvision::selftest
