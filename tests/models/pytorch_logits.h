// A loaded model run on a fixture's input, against the logits PyTorch computed for it: within the
// fp32 bound (2e-4 absolute + 2e-4 relative, derived in test_convnext.cpp; the other families say
// why it holds for them), or with fp16 weights within kHalfWeightsLogitTolerance.
#pragma once
#include <gtest/gtest.h>

#include <memory>

#include "io/npy.h"
#include "models/half_weights_tolerance.h"
#include "support/device_test.h"
#include "vkvision/vkvision.h"

namespace vkvision::testing {

inline void expect_pytorch_logits(const std::shared_ptr<Runtime>& runtime, const Model& model,
                                  const io::NpyArray& input, const io::NpyArray& expected,
                                  KernelFamily kernels = KernelFamily::Auto,
                                  Precision precision = Precision::Fp32) {
  Session session(runtime, model,
                  {.batch = static_cast<uint32_t>(input.shape[0]),
                   .input_size = static_cast<uint32_t>(input.shape[2]),
                   .kernels = kernels,
                   .precision = precision});
  const std::vector<float> logits = session.run(input.data);
  ASSERT_EQ(logits.size(), expected.data.size());
  const double bound = precision == Precision::Fp16 ? kHalfWeightsLogitTolerance : 2e-4;
  EXPECT_LE(worst_tolerance_ratio(logits, expected.data, bound, bound), 1.0);
}

}  // namespace vkvision::testing
