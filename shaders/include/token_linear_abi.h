// token_linear.comp (and token_linear_texel) <-> src/ops/token_linear.cpp.
#ifndef VKVISION_TOKEN_LINEAR_ABI_H
#define VKVISION_TOKEN_LINEAR_ABI_H
#include "abi.h"

#define TOKEN_LINEAR_LOCAL_SIZE_X 64
// Each invocation's tile: TOKEN_LINEAR_ROWS output tokens x TOKEN_LINEAR_QUADS * 4 channels (12 x 16).
#define TOKEN_LINEAR_ROWS 12
#define TOKEN_LINEAR_QUADS 4

VKV_PUSH_BEGIN(TokenLinearPush)
VKV_UINT(batch)
VKV_UINT(T_in)
VKV_UINT(T_out)
VKV_UINT(C)
VKV_UINT(C4)        // C rounded up to 4, divided by 4: the number of channel quads
VKV_UINT(T4)        // T_in rounded up to 4, divided by 4: a packed weight row in vec4s
VKV_UINT(tiles)     // tiles per image: ceil(T_out / ROWS) * ceil(C4 / QUADS)
VKV_UINT(x_last)    // batch * T_in * C - 1: the last input element (storage loads are clamped to it)
VKV_PUSH_END(TokenLinearPush, 32)

#endif
