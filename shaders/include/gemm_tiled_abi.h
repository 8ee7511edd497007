// gemm_tiled.comp (and gemm_tiled_half_weights) <-> src/ops/gemm.cpp.
#ifndef VKVISION_GEMM_TILED_ABI_H
#define VKVISION_GEMM_TILED_ABI_H
#include "abi.h"

#define GEMM_TILED_LOCAL_SIZE_X 256
// Each workgroup's output tile is GEMM_TILED_TILE x GEMM_TILED_TILE, staged GEMM_TILED_STEP along K
// at a time through shared memory.
#define GEMM_TILED_TILE 64
#define GEMM_TILED_STEP 16

VKV_PUSH_BEGIN(GemmTiledPush)
VKV_UINT(M)
VKV_UINT(N)
VKV_UINT(K)
VKV_UINT(N4)
VKV_UINT(tiles_n)  // column tiles of GEMM_TILED_TILE
VKV_UINT(tiles)    // all tiles
VKV_FLOAT(eps)     // NORMALIZE_ROWS
VKV_UINT(rows_per_image)  // INPUT_SCALE: the rows of one image
VKV_PUSH_END(GemmTiledPush, 32)

#endif
