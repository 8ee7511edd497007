// gemm.comp (and gemm_texel, gemm_half_weights) <-> src/ops/gemm.cpp.
#ifndef VKVISION_GEMM_ABI_H
#define VKVISION_GEMM_ABI_H
#include "abi.h"

#define GEMM_LOCAL_SIZE_X 64
// Each invocation's tile: GEMM_ROWS rows x GEMM_QUADS * 4 columns (12 x 16 outputs).
#define GEMM_ROWS 12
#define GEMM_QUADS 4

VKV_PUSH_BEGIN(GemmPush)
VKV_UINT(M)
VKV_UINT(N)
VKV_UINT(K)
VKV_UINT(N4)  // N rounded up to 4, divided by 4: the number of column quads
// Rows are tiled image by image, so that a tile's rows share one image's INPUT_SCALE: rows per image
// (M without INPUT_SCALE) and row tiles per image.
VKV_UINT(rows_per_image)
VKV_UINT(tiles_per_image)
VKV_PUSH_END(GemmPush, 24)

#endif
