// depthwise_conv2d_layer_norm.comp <-> src/ops/depthwise_conv2d.cpp.
#ifndef VKVISION_DEPTHWISE_CONV2D_LAYER_NORM_ABI_H
#define VKVISION_DEPTHWISE_CONV2D_LAYER_NORM_ABI_H
#include "abi.h"

// Invocations per workgroup (WORKGROUP in the shader): the most that split one tile's channels.
#define DEPTHWISE_LAYER_NORM_LOCAL_SIZE_X 8
// Adjacent output pixels of one row per tile (PIXELS in the shader).
#define DEPTHWISE_LAYER_NORM_PIXELS 8

VKV_PUSH_BEGIN(DepthwiseConv2dLayerNormPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(OH) VKV_UINT(OW) VKV_UINT(C4) VKV_UINT(KH)
VKV_UINT(KW) VKV_UINT(SH) VKV_UINT(SW) VKV_UINT(PH)
VKV_UINT(PW)
VKV_FLOAT(eps)
VKV_UINT(GROUPS)  // invocations splitting each tile's channels (see the shader)
VKV_PUSH_END(DepthwiseConv2dLayerNormPush, 60)

#endif
