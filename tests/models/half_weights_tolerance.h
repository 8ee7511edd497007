// The logit budget of Precision::Fp16 against PyTorch's fp32 logits (derived in selftest/logit_bounds.h,
// which `vkvision selftest` shares).
#pragma once
#include "selftest/logit_bounds.h"

namespace vkvision::testing {

using selftest::kHalfWeightsLogitTolerance;

}  // namespace vkvision::testing
