// depthwise_conv2d.comp (and its _texel, _half_weights variants) <-> src/ops/depthwise_conv2d.cpp.
#ifndef VKVISION_DEPTHWISE_CONV2D_ABI_H
#define VKVISION_DEPTHWISE_CONV2D_ABI_H
#include "abi.h"

#define DEPTHWISE_CONV2D_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(DepthwiseConv2dPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(OH) VKV_UINT(OW) VKV_UINT(C4) VKV_UINT(KH)
VKV_UINT(KW) VKV_UINT(SH) VKV_UINT(SW) VKV_UINT(PH)
VKV_UINT(PW)
VKV_PUSH_END(DepthwiseConv2dPush, 52)

#endif
