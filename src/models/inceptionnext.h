// InceptionNeXt (sail-sg/inceptionnext, timm inception_next_*: both use the same tensor names).
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& inceptionnext_family();

}  // namespace vkvision::models
