// mean_pool.comp <-> src/ops/mean_pool.cpp.
#ifndef VKVISION_MEAN_POOL_ABI_H
#define VKVISION_MEAN_POOL_ABI_H
#include "abi.h"

#define MEAN_POOL_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(MeanPoolPush)
VKV_UINT(N)
VKV_UINT(HW)
VKV_UINT(C)
VKV_PUSH_END(MeanPoolPush, 12)

#endif
