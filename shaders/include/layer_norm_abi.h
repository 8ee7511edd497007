// layer_norm.comp (and layer_norm_texel) <-> src/ops/layer_norm.cpp.
#ifndef VKVISION_LAYER_NORM_ABI_H
#define VKVISION_LAYER_NORM_ABI_H
#include "abi.h"

#define LAYER_NORM_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(LayerNormPush)
VKV_UINT(rows)
VKV_UINT(C)
VKV_FLOAT(eps)
VKV_UINT(H) VKV_UINT(W)  // GATHER_PATCHES: the input map's size
VKV_PUSH_END(LayerNormPush, 20)

#endif
