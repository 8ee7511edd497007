// elementwise.comp <-> src/ops/elementwise.{h,cpp} (ops::ElementwiseMode takes its values from here).
#ifndef VKVISION_ELEMENTWISE_ABI_H
#define VKVISION_ELEMENTWISE_ABI_H
#include "abi.h"

#define ELEMENTWISE_LOCAL_SIZE_X 64
// Specialisation constant 0 (MODE).
#define ELEMENTWISE_MODE_GELU 0
#define ELEMENTWISE_MODE_ADD 1
#define ELEMENTWISE_MODE_CHANNEL_AFFINE 2
#define ELEMENTWISE_MODE_RELU 3
#define ELEMENTWISE_MODE_CHANNEL_GATE 4
#define ELEMENTWISE_MODE_MULTIPLY 5

VKV_PUSH_BEGIN(ElementwisePush)
VKV_UINT(count)
VKV_UINT(C)
VKV_UINT(image)  // elements per image (MODE_CHANNEL_GATE)
VKV_PUSH_END(ElementwisePush, 12)

#endif
