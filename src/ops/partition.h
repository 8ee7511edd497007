// The partition shape shared by RepMLP's partition kernels (ops/partition_linear.h,
// ops/partition_conv.h).
#pragma once
#include <cstdint>
#include <string>

#include "vkvision/error.h"

namespace vkvision::ops {

struct PartitionShape {
  uint32_t n = 1, h = 0, w = 0, c = 0;  // the map [N, H, W, C]
  uint32_t ph = 1, pw = 1;              // patch size; must tile H x W
  uint32_t sharesets = 1;               // S; channel c uses shareset c % S, S divides C

  uint32_t positions() const { return ph * pw; }
};

// Throws Error unless the patches tile the map and the sharesets divide the channels.
inline void check_partition_shape(const PartitionShape& s) {
  if (s.ph == 0 || s.pw == 0 || s.h % s.ph != 0 || s.w % s.pw != 0 || s.sharesets == 0 ||
      s.c % s.sharesets != 0)
    throw Error("partition kernels need patches " + std::to_string(s.ph) + "x" + std::to_string(s.pw) +
                " tiling the map " + std::to_string(s.h) + "x" + std::to_string(s.w) + " and sharesets " +
                std::to_string(s.sharesets) + " dividing channels " + std::to_string(s.c));
}

}  // namespace vkvision::ops
