// InceptionNeXt's channel-sliced depthwise kernel against the reference's split -> three depthwise
// convolutions -> concat, computed in double on NHWC, through the conformance harness
// (ops/conformance.h): the scalar kernel (storage buffers) on every case and the four-channel kernel
// (texel input, storage weights) where every branch boundary is a multiple of 4; fp32 and fp16 weights.
#include "ops/conformance.h"
#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/error_bounds.h"
#include "ops/inception_depthwise_conv2d.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class InceptionDepthwiseTest : public testing::DeviceTest {};

TEST_F(InceptionDepthwiseTest, HalfWeightsAreRefusedWithout16BitStorage) {
  // Without 16-bit storage the storage-path kernel must refuse fp16 weights rather than read halves
  // as floats (checked on a copy of this device's properties, texel buffers off to force that path).
  DeviceInfo no_half_storage = device();
  no_half_storage.texel_buffer_rgba32f = false;
  no_half_storage.storage_buffer_16bit = false;
  EXPECT_THROW(ops::inception_depthwise_conv2d(
                   no_half_storage, {.n = 1, .h = 4, .w = 4, .c = 20, .branch = 4}, {}, {}, {}, {}, true),
               Error);
  DeviceInfo half_storage = no_half_storage;  // the same with 16-bit storage: the refusal was for that alone
  half_storage.storage_buffer_16bit = true;
  EXPECT_NO_THROW(ops::inception_depthwise_conv2d(
      half_storage, {.n = 1, .h = 4, .w = 4, .c = 20, .branch = 4}, {}, {}, {}, {}, true));
}

TEST_F(InceptionDepthwiseTest, BranchesWiderThanTheTensorAreRejected) {
  const ops::InceptionDepthwiseShape s{.n = 1, .h = 4, .w = 4, .c = 20, .branch = 7};
  EXPECT_THROW(ops::inception_depthwise_conv2d(device(), s, {}, {}, {}, {}), Error);
}

}  // namespace
}  // namespace vkvision
