// window_attention.comp (and window_attention_texel) <-> src/ops/window_attention.cpp.
#ifndef VKVISION_WINDOW_ATTENTION_ABI_H
#define VKVISION_WINDOW_ATTENTION_ABI_H
#include "abi.h"

#define WINDOW_ATTENTION_LOCAL_SIZE_X 64
// Queries per invocation (QUERIES in the shader).
#define WINDOW_ATTENTION_QUERIES 8

VKV_PUSH_BEGIN(WindowAttentionPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(heads) VKV_UINT(window) VKV_UINT(shift_h) VKV_UINT(shift_w)
VKV_UINT(padded_h) VKV_UINT(padded_w)
VKV_PUSH_END(WindowAttentionPush, 40)

#endif
