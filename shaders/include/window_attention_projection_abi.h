// window_attention_projection.comp <-> src/ops/window_attention.cpp.
#ifndef VKVISION_WINDOW_ATTENTION_PROJECTION_ABI_H
#define VKVISION_WINDOW_ATTENTION_PROJECTION_ABI_H
#include "abi.h"

#define WINDOW_ATTENTION_PROJECTION_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(WindowAttentionProjectionPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(heads) VKV_UINT(window) VKV_UINT(shift_h) VKV_UINT(shift_w)
VKV_UINT(padded_h) VKV_UINT(padded_w)
VKV_UINT(query_tiles)  // per window: ceil(T / QUERY_TILE)
VKV_UINT(tiles)        // N * windows * query_tiles
VKV_PUSH_END(WindowAttentionProjectionPush, 48)

#endif
