#include <cmath>
#include <sstream>

#include "ops/depthwise_conv2d.h"
#include "ops/error_bounds.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "ops/layer_norm.h"
#include "vkvision/error.h"
#include "support/device_test.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;

// Depthwise convolution in double on NHWC; weight in PyTorch's [C, 1, KH, KW]. Each output is bias +
// at most KH*KW products, so fp32 accumulation is within gamma_{KH*KW+1} * sum of |terms|.
std::vector<Bounded> depthwise_reference(const ops::Conv2dShape& s, const std::vector<float>& x,
                                         const std::vector<float>& w, const std::vector<float>& b) {
  const uint32_t oh = s.oh(), ow = s.ow(), c_count = s.ic;
  std::vector<Bounded> out(size_t(s.n) * oh * ow * c_count);
  for (uint32_t n = 0; n < s.n; ++n)
    for (uint32_t y = 0; y < oh; ++y)
      for (uint32_t x_ = 0; x_ < ow; ++x_)
        for (uint32_t c = 0; c < c_count; ++c) {
          double sum = b[c], magnitude = std::abs(b[c]);
          for (uint32_t ky = 0; ky < s.kh; ++ky)
            for (uint32_t kx = 0; kx < s.kw; ++kx) {
              const int iy = int(y * s.sh + ky) - int(s.ph), ix = int(x_ * s.sw + kx) - int(s.pw);
              if (iy < 0 || ix < 0 || iy >= int(s.ih) || ix >= int(s.iw)) continue;  // zero padding
              const double term =
                  double(x[((size_t(n) * s.ih + iy) * s.iw + ix) * c_count + c]) * w[(size_t(c) * s.kh + ky) * s.kw + kx];
              sum += term;
              magnitude += std::abs(term);
            }
          out[((size_t(n) * oh + y) * ow + x_) * c_count + c] = {
              sum, testing::gamma_n(double(s.kh) * s.kw + 1) * magnitude};
        }
  return out;
}

class DepthwiseConv2dTest : public DeviceTest {
 protected:
  // Runs the kernel on random O(1) data against the bounded reference; returns the shader chosen.
  // `info`: the DeviceInfo the dispatch is built for (a copy without texel buffers forces storage).
  // half_weights: the weight stored as fp16, and the reference multiplies by the rounded values.
  std::string check(ops::Conv2dShape s, uint32_t seed, const DeviceInfo* info = nullptr, bool half_weights = false) {
    s.oc = s.ic;
    s.groups = s.ic;
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, seed);
    auto w = random_values(size_t(s.ic) * s.kh * s.kw, seed + 1), b = random_values(s.ic, seed + 2);
    if (half_weights) w = rounded_to_half(w);
    const size_t out_count = size_t(s.n) * s.oh() * s.ow() * s.ic;
    const auto packed = ops::pack_depthwise_weight(w, s);
    auto input = make_buffer(x), weight = half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.ic)), output = make_buffer(out_count);
    auto dispatch = ops::depthwise_conv2d(info ? *info : device(), s, input, weight, bias, output, half_weights);
    std::ostringstream trace;
    trace << "N" << s.n << " " << s.ih << "x" << s.iw << " C" << s.ic << " k" << s.kh << "x" << s.kw << " s" << s.sh
          << "x" << s.sw << " p" << s.ph << "," << s.pw << " via " << vk::shader_name(dispatch.shader);
    SCOPED_TRACE(trace.str());
    run({dispatch});
    EXPECT_TRUE(testing::within_bounds(read(output, out_count), depthwise_reference(s, x, w, b)));
    return vk::shader_name(dispatch.shader);
  }
  // C % 4 == 0: the storage variant (forced) and, where the device has texel buffers, the texel one.
  void check_both_paths(const ops::Conv2dShape& s, uint32_t seed) {
    DeviceInfo storage_only = device();
    storage_only.texel_buffer_rgba32f = false;
    EXPECT_EQ(check(s, seed, &storage_only), "depthwise_conv2d");
    if (device().texel_buffer_rgba32f) {
      EXPECT_EQ(check(s, seed), "depthwise_conv2d_texel");
    }
  }
};

TEST_F(DepthwiseConv2dTest, HalfWeightsOnBothOperandPathsMatchReferenceOnRoundedWeights) {
  DeviceInfo storage_only = device();
  storage_only.texel_buffer_rgba32f = false;
  const std::vector<ops::Conv2dShape> shapes = {
      {.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3},
      {.n = 3, .ih = 5, .iw = 7, .ic = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1},  // storage only
      {.n = 2, .ih = 5, .iw = 7, .ic = 40, .kh = 1, .kw = 11, .ph = 0, .pw = 5},
  };
  uint32_t seed = 500;
  for (const auto& shape : shapes) {
    seed += 4;
    if (device().storage_buffer_16bit) {
      EXPECT_EQ(check(shape, seed, &storage_only, true), "depthwise_conv2d_half_weights");
    }
    if (device().texel_buffer_rgba16f && ops::depthwise_conv2d_uses_texel_path(device(), shape)) {
      EXPECT_EQ(check(shape, seed, nullptr, true), "depthwise_conv2d_texel");
    }
  }
}

TEST_F(DepthwiseConv2dTest, Kernel7x7Pad3OnThreeChannels) {
  // C = 3: one channel tile of which the fourth lane is past the end.
  check({.n = 2, .ih = 13, .iw = 11, .ic = 3, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 300);
}

TEST_F(DepthwiseConv2dTest, Kernel7x7Pad3On40ChannelsOnBothOperandPaths) {
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 310);
}

TEST_F(DepthwiseConv2dTest, Kernel7x7Pad3On97Channels) {
  // 5x7 image with a 7x7 kernel: most taps of every output fall in the padding.
  check({.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 320);
}

TEST_F(DepthwiseConv2dTest, Kernel3x3Stride2Pad1) {
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, 330);
  check({.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, 335);
}

TEST_F(DepthwiseConv2dTest, HorizontalBand1x11Pad0And5) {
  check({.n = 2, .ih = 13, .iw = 11, .ic = 97, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 340);
  check({.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 345);
}

TEST_F(DepthwiseConv2dTest, VerticalBand11x1Pad5And0) {
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 11, .kw = 1, .ph = 5, .pw = 0}, 350);
  check({.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 11, .kw = 1, .ph = 5, .pw = 0}, 355);
}

TEST_F(DepthwiseConv2dTest, HorizontalBand1x11On40ChannelsOnBothOperandPaths) {
  check_both_paths({.n = 2, .ih = 5, .iw = 7, .ic = 40, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 347);
}

TEST_F(DepthwiseConv2dTest, ChannelCountsNotMultipleOfFourUseTheStorageVariant) {
  EXPECT_EQ(check({.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 370), "depthwise_conv2d");
  EXPECT_EQ(check({.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 3, .kw = 3, .ph = 1, .pw = 1}, 371), "depthwise_conv2d");
}

TEST_F(DepthwiseConv2dTest, DispatchSpilledIntoYStillCoversEveryOutput) {
  // 2 x 13 output rows x 3 column tiles x 10 channel tiles = 780 invocations = 13 workgroups: with
  // at most 5 along x they form a 5 x 3 grid.
  const ops::Conv2dShape shape{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3};
  DeviceInfo small = device();
  small.max_workgroup_count = {5, device().max_workgroup_count[1], 1};
  DeviceInfo small_storage = small;
  small_storage.texel_buffer_rgba32f = false;
  EXPECT_EQ(check(shape, 380, &small_storage), "depthwise_conv2d");
  check(shape, 380, &small);
}

TEST_F(DepthwiseConv2dTest, EachChannelUsesOnlyItsOwnFilter) {
  // A one-hot input (a single channel of a single pixel set) must only produce output in that
  // channel: catches a kernel that mixes channels within its 4-channel tile.
  const ops::Conv2dShape s{.n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 97, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 97};
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
    const uint32_t c = i % 97, pixel = uint32_t(i / 97), n = pixel / 35, oy = (pixel % 35) / 7, ox = pixel % 7;
    float expected = 0.0f;
    if (c == hot_channel && n == 1 && oy >= 1 && oy <= 3 && ox >= 2 && ox <= 4)
      expected = w[size_t(c) * 9 + (2 - oy + 1) * 3 + (3 - ox + 1)];
    ASSERT_EQ(y[i], expected) << "n " << n << " y " << oy << " x " << ox << " c " << c;
  }
}

}  // namespace
}  // namespace vkvision

namespace vkvision {
namespace {

// The fused depthwise + LayerNorm kernel against the two kernels it replaces, run back to back.
class DepthwiseLayerNormTest : public testing::DeviceTest {
 protected:
  // half_weights: both read the same fp16 weight (through RGBA16F views).
  void check_against_separate_kernels(bool half_weights);
};

TEST_F(DepthwiseLayerNormTest, MatchesDepthwiseThenLayerNormIncludingRaggedWidth) {
  check_against_separate_kernels(false);
}

TEST_F(DepthwiseLayerNormTest, HalfWeightsMatchDepthwiseThenLayerNormOnTheSameHalfWeights) {
  // The fused kernel reads its weights through a texel view only: without RGBA16F it must refuse
  // fp16 weights rather than read halves as floats (checked on a copy of this device's properties).
  DeviceInfo no_half_texels = device();
  no_half_texels.texel_buffer_rgba32f = true;
  no_half_texels.texel_buffer_rgba16f = false;
  const ops::Conv2dShape shape{.n = 1, .ih = 4, .iw = 4, .ic = 8, .oc = 8, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 8};
  EXPECT_THROW(ops::depthwise_conv2d_layer_norm(no_half_texels, shape, 1e-6f, {}, {}, {}, {}, {}, true), Error);
  DeviceInfo half_texels = no_half_texels;  // the same with RGBA16F: the refusal was for that alone
  half_texels.texel_buffer_rgba16f = true;
  EXPECT_NO_THROW(ops::depthwise_conv2d_layer_norm(half_texels, shape, 1e-6f, {}, {}, {}, {}, {}, true));
  if (!device().texel_buffer_rgba16f) GTEST_SKIP() << "no RGBA16F texel buffers (the refusal above is checked)";
  check_against_separate_kernels(true);
}

void DepthwiseLayerNormTest::check_against_separate_kernels(bool half_weights) {
  // 13 columns: the last 8-pixel tile is partly outside; 9 rows: the last two-row tile (stride 1) is
  // half outside; batch 2; stride 1 and 2. The shapes split each tile's channels 1, 2, 4 and 8 ways
  // (depthwise_layer_norm_tiling), 8 over 10 quads unevenly; a bias offset of 25 puts every pixel's
  // mean far from 0, where the groups' statistics must combine without cancelling.
  struct Variant {
    uint32_t n, ih, iw, c, stride, groups;
    float offset;
  };
  const std::vector<Variant> variants = {{2, 9, 13, 40, 1, 8, 0.0f},  {2, 9, 13, 40, 2, 8, 0.0f},
                                         {1, 32, 64, 16, 1, 1, 0.0f}, {1, 16, 16, 16, 1, 4, 0.0f},
                                         {1, 16, 8, 8, 1, 2, 25.0f},  {2, 9, 13, 40, 2, 8, 25.0f},
                                         {1, 32, 40, 12, 1, 2, 25.0f}};
  uint32_t seed = 41;
  for (const Variant& v : variants) {
    ops::Conv2dShape s{.n = v.n, .ih = v.ih, .iw = v.iw, .ic = v.c, .oc = v.c, .kh = 7, .kw = 7, .sh = v.stride,
                       .sw = v.stride, .ph = 3, .pw = 3, .groups = v.c};
    if (!ops::depthwise_layer_norm_supported(device(), s)) {
      // Without texel buffers the plan keeps the two kernels; asking for the fused one is an error.
      EXPECT_THROW(ops::depthwise_conv2d_layer_norm(device(), s, 1e-6f, {}, {}, {}, {}, {}), Error);
      return;
    }
    SCOPED_TRACE(std::to_string(v.ih) + "x" + std::to_string(v.iw) + "x" + std::to_string(v.c) + " stride " +
                 std::to_string(v.stride) + " offset " + std::to_string(v.offset));
    EXPECT_EQ(ops::depthwise_layer_norm_tiling(s).groups, v.groups);
    EXPECT_EQ(ops::depthwise_layer_norm_tiling(s).rows, v.stride == 1 ? 2u : 1u);
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, seed++), w = random_values(size_t(s.ic) * 49, seed++),
         b = random_values(s.ic, seed++), gamma = random_values(s.ic, seed++, 0.5f, 1.5f),
         beta = random_values(s.ic, seed++);
    for (float& value : b) value += v.offset;
    const size_t count = size_t(s.n) * s.oh() * s.ow() * s.ic;
    const auto packed = ops::pack_depthwise_weight(w, s);
    auto input = make_buffer(x), weight = half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.ic)),
         affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)), fused = make_buffer(count),
         unnormalised = make_buffer(count), separate = make_buffer(count);
    run({ops::depthwise_conv2d_layer_norm(device(), s, 1e-6f, input, weight, bias, affine, fused, half_weights),
         ops::depthwise_conv2d(device(), s, input, weight, bias, unnormalised, half_weights),
         ops::layer_norm(device(), uint32_t(count / s.ic), s.ic, 1e-6f, unnormalised, affine, separate)});
    // Same sums in the same order; only the statistics' summation order differs (per group and vec4
    // lane vs sequential): a few ulps of the normalised O(1) outputs.
    EXPECT_LE(testing::worst_tolerance_ratio(read(fused, count), read(separate, count), 1e-5, 1e-5), 1.0);

    // Statistics mode (the norm left to the GEMM after it): the output is the plain depthwise result
    // and (mean, 1/std) per pixel normalise it to the separate LayerNorm's output.
    const size_t pixels = count / s.ic;
    auto raw = make_buffer(count), statistics = make_buffer(2 * pixels);
    run({ops::depthwise_conv2d_layer_norm(device(), s, 1e-6f, input, weight, bias, affine, raw, half_weights, statistics)});
    const auto raw_values = read(raw, count), stats = read(statistics, 2 * pixels);
    EXPECT_LE(testing::worst_tolerance_ratio(raw_values, read(unnormalised, count), 1e-6, 1e-6), 1.0);
    std::vector<float> normalised(count);
    for (size_t i = 0; i < count; ++i) {
      const size_t pixel = i / s.ic, channel = i % s.ic;
      normalised[i] = (raw_values[i] - stats[2 * pixel]) * stats[2 * pixel + 1] * gamma[channel] + beta[channel];
    }
    EXPECT_LE(testing::worst_tolerance_ratio(normalised, read(separate, count), 1e-5, 1e-5), 1.0);
  }
}

}  // namespace
}  // namespace vkvision
