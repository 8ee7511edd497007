// patch_merge_gather.comp <-> src/ops/patch_merge_gather.cpp.
#ifndef VKVISION_PATCH_MERGE_GATHER_ABI_H
#define VKVISION_PATCH_MERGE_GATHER_ABI_H
#include "abi.h"

#define PATCH_MERGE_GATHER_LOCAL_SIZE_X 64

VKV_PUSH_BEGIN(PatchMergeGatherPush)
VKV_UINT(N) VKV_UINT(H) VKV_UINT(W) VKV_UINT(C)
VKV_PUSH_END(PatchMergeGatherPush, 16)

#endif
