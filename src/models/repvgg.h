// RepVGG (DingXiaoH/RepVGG repvgg.py): training-time checkpoints (3x3 + 1x1 + identity branches with
// BatchNorm) and deployed ones (rbr_reparam).
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& repvgg_family();

}  // namespace vkvision::models
