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
VKV_PUSH_END(GemmPush, 16)

#endif
