// ConvNeXt (facebookresearch/ConvNeXt, timm convnext_*, torchvision convnext_*).
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& convnext_family();

}  // namespace vkvision::models
