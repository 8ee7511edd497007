// partition_linear.comp (and partition_linear_half_weights) <-> src/ops/partition_linear.cpp.
#ifndef VKVISION_PARTITION_LINEAR_ABI_H
#define VKVISION_PARTITION_LINEAR_ABI_H
#include "abi.h"

#define PARTITION_LINEAR_LOCAL_SIZE_X 64
// Position quads per invocation (4 * PARTITION_LINEAR_QUADS positions).
#define PARTITION_LINEAR_QUADS 4

VKV_PUSH_BEGIN(PartitionLinearPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_UINT(ph) VKV_UINT(pw) VKV_UINT(S)
VKV_UINT(hw4)      // ceil(ph * pw / 4)
VKV_UINT(columns)  // per shareset: N * parts * groups
VKV_UINT(column4)  // ceil(columns / 4)
VKV_PUSH_END(PartitionLinearPush, 40)

#endif
