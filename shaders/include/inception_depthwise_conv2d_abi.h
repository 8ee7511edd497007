// inception_depthwise_conv2d.comp and inception_depthwise_conv2d_quads.comp (one layout) <->
// src/ops/inception_depthwise_conv2d.cpp.
#ifndef VKVISION_INCEPTION_DEPTHWISE_CONV2D_ABI_H
#define VKVISION_INCEPTION_DEPTHWISE_CONV2D_ABI_H
#include "abi.h"

#define INCEPTION_DEPTHWISE_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(InceptionDepthwisePush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(I)   // identity channels
VKV_UINT(G)   // channels per branch
VKV_UINT(KS)  // square kernel size (the quads kernel specialises on it instead)
VKV_UINT(KB)  // band kernel size (likewise)
VKV_PUSH_END(InceptionDepthwisePush, 32)

#endif
