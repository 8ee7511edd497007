// spatial_mlp.comp <-> src/ops/spatial_mlp.cpp.
#ifndef VKVISION_SPATIAL_MLP_ABI_H
#define VKVISION_SPATIAL_MLP_ABI_H
#include "abi.h"

#define SPATIAL_MLP_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(SpatialMlpPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(heads) VKV_UINT(window) VKV_UINT(pad_top) VKV_UINT(pad_left)
VKV_UINT(padded_h) VKV_UINT(padded_w)
VKV_PUSH_END(SpatialMlpPush, 40)

#endif
