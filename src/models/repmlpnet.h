// RepMLPNet (DingXiaoH/RepMLP repmlpnet.py): training-time checkpoints (partition FC fc3 + fc3_bn and
// repconv{k} local-perceptron branches) and deployed ones (after locality_injection(): fc3 with bias).
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& repmlpnet_family();

}  // namespace vkvision::models
