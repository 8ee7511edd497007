// Swin Transformer v1 and v2 (microsoft/Swin-Transformer, timm swin_* / swinv2_*, torchvision swin_*).
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& swin_family();

}  // namespace vkvision::models
