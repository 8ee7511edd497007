// The depthwise convolution (ops::depthwise_conv2d) and its fusion with LayerNorm through the
// conformance harness (ops/conformance.h): every case on the storage-buffer kernel and, where C % 4
// == 0, the texel-buffer one; the fp16 cases on the fp16 variant of each.
#include <cmath>

#include "ops/conformance.h"
#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/error_bounds.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "ops/inception_depthwise_conv2d.h"
#include "ops/layer_norm.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class DepthwiseConv2dTest : public testing::DeviceTest {};
class DepthwiseLayerNormTest : public testing::DeviceTest {};

TEST_F(DepthwiseConv2dTest, EachChannelUsesOnlyItsOwnFilter) {
  // A one-hot input (a single channel of a single pixel set) must only produce output in that
  // channel: catches a kernel that mixes channels within its 4-channel tile.
  const ops::Conv2dShape s{
      .n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 97, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 97};
  std::vector<float> x(size_t(2) * 5 * 7 * 97, 0.0f);
  const uint32_t hot_channel = 94;  // in the last, partial tile (channels 92..96)
  x[((1 * 5 + 2) * 7 + 3) * 97 + hot_channel] = 1.0f;
  auto w = random_values(size_t(97) * 9, 360);
  std::vector<float> b(97, 0.0f);
  const size_t out_count = x.size();
  auto input = make_buffer(x), weight = make_buffer(ops::pack_depthwise_weight(w, s)),
       bias = make_buffer(ops::pack_vec4_padded(b, 97)), output = make_buffer(out_count);
  run({ops::depthwise_conv2d(device(), s, input, weight, bias, output)});
  auto y = read(output, out_count);
  // Exact: every output is a sum of zeros and at most one product with 1.0.
  for (size_t i = 0; i < y.size(); ++i) {
    const uint32_t c = i % 97, pixel = uint32_t(i / 97), n = pixel / 35, oy = (pixel % 35) / 7,
                   ox = pixel % 7;
    float expected = 0.0f;
    if (c == hot_channel && n == 1 && oy >= 1 && oy <= 3 && ox >= 2 && ox <= 4)
      expected = w[size_t(c) * 9 + (2 - oy + 1) * 3 + (3 - ox + 1)];
    ASSERT_EQ(y[i], expected) << "n " << n << " y " << oy << " x " << ox << " c " << c;
  }
}

TEST_F(DepthwiseLayerNormTest, HalfWeightsAreRefusedWithoutRgba16fTexels) {
  // The fused kernel reads its weights through a texel view only: without RGBA16F it must refuse
  // fp16 weights rather than read halves as floats (checked on a copy of this device's properties).
  DeviceInfo no_half_texels = device();
  no_half_texels.texel_buffer_rgba32f = true;
  no_half_texels.texel_buffer_rgba16f = false;
  const ops::Conv2dShape shape{
      .n = 1, .ih = 4, .iw = 4, .ic = 8, .oc = 8, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 8};
  EXPECT_THROW(ops::depthwise_conv2d_layer_norm(no_half_texels, shape, 1e-6f, {}, {}, {}, {}, {}, true),
               Error);
  DeviceInfo half_texels = no_half_texels;  // the same with RGBA16F: the refusal was for that alone
  half_texels.texel_buffer_rgba16f = true;
  EXPECT_NO_THROW(ops::depthwise_conv2d_layer_norm(half_texels, shape, 1e-6f, {}, {}, {}, {}, {}, true));
}

TEST_F(DepthwiseLayerNormTest, FusedKernelIsRefusedWithoutTexelBuffers) {
  // Without texel buffers the plan keeps the two kernels; asking for the fused one is an error.
  DeviceInfo no_texels = device();
  no_texels.texel_buffer_rgba32f = no_texels.texel_buffer_rgba16f = false;
  const ops::Conv2dShape shape{
      .n = 1, .ih = 4, .iw = 4, .ic = 8, .oc = 8, .kh = 7, .kw = 7, .ph = 3, .pw = 3, .groups = 8};
  EXPECT_FALSE(ops::depthwise_layer_norm_supported(no_texels, shape));
  EXPECT_THROW(ops::depthwise_conv2d_layer_norm(no_texels, shape, 1e-6f, {}, {}, {}, {}, {}), Error);
}

}  // namespace
}  // namespace vkvision
