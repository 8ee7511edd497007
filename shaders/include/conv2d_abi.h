// conv2d.comp (and conv2d_texel, conv2d_half_weights) <-> src/ops/conv2d.cpp.
#ifndef VKVISION_CONV2D_ABI_H
#define VKVISION_CONV2D_ABI_H
#include "abi.h"

#define CONV2D_LOCAL_SIZE_X 64
// Output pixels per invocation (the channel quads per invocation are specialisation constant 2).
#define CONV2D_PIXELS 12

VKV_PUSH_BEGIN(Conv2dPush)
VKV_UINT(N) VKV_UINT(IH) VKV_UINT(IW) VKV_UINT(IC)
VKV_UINT(OH) VKV_UINT(OW) VKV_UINT(OC) VKV_UINT(OC4)
VKV_UINT(KH) VKV_UINT(KW) VKV_UINT(SH) VKV_UINT(SW)
VKV_UINT(PH) VKV_UINT(PW) VKV_UINT(groups)
VKV_PUSH_END(Conv2dPush, 60)

#endif
