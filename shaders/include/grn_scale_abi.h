// grn_scale.comp <-> src/ops/grn.cpp.
#ifndef VKVISION_GRN_SCALE_ABI_H
#define VKVISION_GRN_SCALE_ABI_H
#include "abi.h"

#define GRN_SCALE_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(GrnScalePush)
VKV_UINT(N)
VKV_UINT(C)
VKV_FLOAT(eps)
VKV_PUSH_END(GrnScalePush, 12)

#endif
