// partition_conv.comp <-> src/ops/partition_conv.cpp.
#ifndef VKVISION_PARTITION_CONV_ABI_H
#define VKVISION_PARTITION_CONV_ABI_H
#include "abi.h"

#define PARTITION_CONV_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(PartitionConvPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(ph) VKV_UINT(pw) VKV_UINT(S)
VKV_UINT(kh) VKV_UINT(kw)
VKV_PUSH_END(PartitionConvPush, 36)

#endif
