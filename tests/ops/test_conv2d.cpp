#include <cmath>
#include <sstream>

#include "ops/conv2d.h"
#include "ops/error_bounds.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;

// Direct convolution in double. Input NHWC, or NCHW when shape.input_nchw; weight in PyTorch's
// [OC, IC/groups, KH, KW]; output NHWC. Each output is bias + KH*KW*IC/groups products, so the
// kernel's fp32 accumulation is within gamma_{terms+1} * sum of |terms| before the activation.
std::vector<Bounded> conv2d_reference(const ops::Conv2dShape& s, ops::Activation activation, const std::vector<float>& x,
                                      const std::vector<float>& w, const std::vector<float>& b) {
  const uint32_t oh = s.oh(), ow = s.ow(), icg = s.ic / s.groups, ocg = s.oc / s.groups;
  auto input = [&](uint32_t n, uint32_t y, uint32_t x_, uint32_t c) -> double {
    if (s.input_nchw) return x[((size_t(n) * s.ic + c) * s.ih + y) * s.iw + x_];
    return x[((size_t(n) * s.ih + y) * s.iw + x_) * s.ic + c];
  };
  std::vector<Bounded> out(size_t(s.n) * oh * ow * s.oc);
  for (uint32_t n = 0; n < s.n; ++n)
    for (uint32_t y = 0; y < oh; ++y)
      for (uint32_t x_ = 0; x_ < ow; ++x_)
        for (uint32_t o = 0; o < s.oc; ++o) {
          const uint32_t group = o / ocg;
          double sum = b[o], magnitude = std::abs(b[o]);
          for (uint32_t ky = 0; ky < s.kh; ++ky)
            for (uint32_t kx = 0; kx < s.kw; ++kx) {
              const int iy = int(y * s.sh + ky) - int(s.ph), ix = int(x_ * s.sw + kx) - int(s.pw);
              if (iy < 0 || ix < 0 || iy >= int(s.ih) || ix >= int(s.iw)) continue;  // zero padding
              for (uint32_t c = 0; c < icg; ++c) {
                const double term = input(n, iy, ix, group * icg + c) * w[((size_t(o) * icg + c) * s.kh + ky) * s.kw + kx];
                sum += term;
                magnitude += std::abs(term);
              }
            }
          const double terms = double(s.kh) * s.kw * icg + 1;
          out[((size_t(n) * oh + y) * ow + x_) * s.oc + o] =
              testing::activate(sum, testing::gamma_n(terms) * magnitude, activation);
        }
  return out;
}

std::string describe(const ops::Conv2dShape& s) {
  std::ostringstream out;
  out << "N" << s.n << " " << s.ih << "x" << s.iw << " IC" << s.ic << " -> OC" << s.oc << " k" << s.kh << "x" << s.kw
      << " s" << s.sh << "x" << s.sw << " p" << s.ph << "," << s.pw << " g" << s.groups << (s.input_nchw ? " NCHW" : " NHWC") << (s.ceil_mode ? " ceil" : "");
  return out.str();
}

class Conv2dTest : public DeviceTest {
 protected:
  // Runs conv2d on random O(1) data, checks it against the bounded reference and returns the shader
  // the op chose. `info` is the DeviceInfo the dispatch is built for (a copy without texel buffers
  // forces the storage-buffer variant). half_weights: the weight stored as fp16, and the reference
  // multiplies by the rounded values.
  std::string check(const ops::Conv2dShape& s, ops::Activation activation, uint32_t seed,
                    const DeviceInfo* info = nullptr, bool half_weights = false) {
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, seed);
    auto w = random_values(size_t(s.oc) * (s.ic / s.groups) * s.kh * s.kw, seed + 1);
    auto b = random_values(s.oc, seed + 2);
    if (half_weights) w = rounded_to_half(w);
    const size_t out_count = size_t(s.n) * s.oh() * s.ow() * s.oc;
    const auto packed = ops::pack_conv2d_weight(w, s);
    auto input = make_buffer(x), weight = half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.oc)), output = make_buffer(out_count);
    auto dispatch = ops::conv2d(info ? *info : device(), s, activation, input, weight, bias, output, half_weights);
    SCOPED_TRACE(describe(s) + " via " + vk::shader_name(dispatch.shader));
    run({dispatch});
    EXPECT_TRUE(testing::within_bounds(read(output, out_count), conv2d_reference(s, activation, x, w, b)));
    return vk::shader_name(dispatch.shader);
  }
  // Both operand variants where the device has texel buffers; the storage one alone otherwise.
  void check_both_paths(const ops::Conv2dShape& s, ops::Activation activation, uint32_t seed) {
    DeviceInfo storage_only = device();
    storage_only.texel_buffer_rgba32f = false;
    EXPECT_EQ(check(s, activation, seed, &storage_only), "conv2d");
    if (device().texel_buffer_rgba32f) {
      EXPECT_EQ(check(s, activation, seed), "conv2d_texel");
    }
  }
};

TEST_F(Conv2dTest, HalfWeightsOnBothOperandPathsMatchReferenceOnRoundedWeights) {
  DeviceInfo storage_only = device();
  storage_only.texel_buffer_rgba32f = false;
  const std::vector<std::pair<ops::Conv2dShape, ops::Activation>> cases = {
      {{.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4, .input_nchw = true},
       ops::Activation::None},
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1},
       ops::Activation::Relu},
      {{.n = 2, .ih = 13, .iw = 11, .ic = 16, .oc = 24, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
       ops::Activation::Gelu},
      {{.n = 3, .ih = 5, .iw = 7, .ic = 6, .oc = 10, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},  // run dense
       ops::Activation::None},
  };
  uint32_t seed = 400;
  for (const auto& [shape, activation] : cases) {
    seed += 4;
    if (device().storage_buffer_16bit) {
      EXPECT_EQ(check(shape, activation, seed, &storage_only, true), "conv2d_half_weights");
    }
    if (device().texel_buffer_rgba16f && ops::conv2d_uses_texel_path(device(), shape)) {
      EXPECT_EQ(check(shape, activation, seed, nullptr, true), "conv2d_texel");
    }
  }
}

TEST_F(Conv2dTest, PatchifyStem4x4Stride4FromNchwInput) {
  // ConvNeXt's stem reads the user's NCHW image directly; 29x23 is not a multiple of 4 (the last
  // rows and columns are dropped, as in PyTorch).
  check({.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4, .input_nchw = true},
        ops::Activation::None, 100);
}

TEST_F(Conv2dTest, PatchifyStem4x4Stride4FromNhwcInput) {
  check({.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4}, ops::Activation::None, 110);
}

TEST_F(Conv2dTest, NchwAndNhwcInputsOfTheSameTensorGiveTheSameOutput) {
  // The same logical tensor in both layouts must give the same result: proves input_nchw only
  // changes addressing. 3x3 pad 1 so padding and every tap are exercised.
  const ops::Conv2dShape nhwc{.n = 2, .ih = 5, .iw = 7, .ic = 3, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1};
  ops::Conv2dShape nchw = nhwc;
  nchw.input_nchw = true;
  auto x_nhwc = random_values(size_t(2) * 5 * 7 * 3, 120);
  std::vector<float> x_nchw(x_nhwc.size());
  for (uint32_t n = 0; n < 2; ++n)
    for (uint32_t y = 0; y < 5; ++y)
      for (uint32_t x = 0; x < 7; ++x)
        for (uint32_t c = 0; c < 3; ++c) x_nchw[((n * 3 + c) * 5 + y) * 7 + x] = x_nhwc[((n * 5 + y) * 7 + x) * 3 + c];
  auto w = random_values(40 * 3 * 9, 121), b = random_values(40, 122);
  auto weight = make_buffer(ops::pack_conv2d_weight(w, nhwc)), bias = make_buffer(ops::pack_vec4_padded(b, 40));
  const size_t out_count = size_t(2) * 5 * 7 * 40;
  auto in_a = make_buffer(x_nhwc), in_b = make_buffer(x_nchw), out_a = make_buffer(out_count), out_b = make_buffer(out_count);
  run({ops::conv2d(device(), nhwc, ops::Activation::None, in_a, weight, bias, out_a),
       ops::conv2d(device(), nchw, ops::Activation::None, in_b, weight, bias, out_b)});
  auto expected = conv2d_reference(nhwc, ops::Activation::None, x_nhwc, w, b);
  auto a = read(out_a, out_count), c = read(out_b, out_count);
  EXPECT_TRUE(testing::within_bounds(a, expected));
  EXPECT_TRUE(testing::within_bounds(c, expected));
}

TEST_F(Conv2dTest, Downsample2x2Stride2OnBothOperandPaths) {
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 2, .kw = 2, .sh = 2, .sw = 2}, ops::Activation::None, 130);
}

TEST_F(Conv2dTest, CeilModeReadsZerosPastTheBottomRightEdgeOnBothOperandPaths) {
  // Swin v2's PatchMerging as a 2x2/s2 conv on odd maps: 13x11 -> 7x6, the last row and column of
  // windows half outside the input.
  const ops::Conv2dShape shape{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 24, .kh = 2, .kw = 2, .sh = 2, .sw = 2,
                               .ceil_mode = true};
  ASSERT_EQ(shape.oh(), 7u);
  ASSERT_EQ(shape.ow(), 6u);
  check_both_paths(shape, ops::Activation::None, 135);
}

TEST_F(Conv2dTest, Conv3x3Pad1Stride1WithGelu) {
  check({.n = 2, .ih = 5, .iw = 7, .ic = 3, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1}, ops::Activation::Gelu, 140);
}

TEST_F(Conv2dTest, Conv3x3Pad1Stride2WithReluOnBothOperandPaths) {
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1},
        ops::Activation::Relu, 150);
}

TEST_F(Conv2dTest, Pointwise1x1) {
  check({.n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 3}, ops::Activation::None, 160);
}

TEST_F(Conv2dTest, Pointwise1x1WithGeluOnBothOperandPaths) {
  // 2 x 13 x 11 pixels: 286 pixels = 72 tiles of 4, with one partial tile at the end.
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97}, ops::Activation::Gelu, 170);
}

TEST_F(Conv2dTest, GroupedTwoGroupsReadsEachGroupsInputChannels) {
  // 8 output channels per group: two channel tiles per group, so a wrong group index shows.
  check({.n = 2, .ih = 5, .iw = 7, .ic = 6, .oc = 16, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
        ops::Activation::None, 180);
}

TEST_F(Conv2dTest, GroupedFourGroupsStride2WithRelu) {
  check({.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 32, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1,
         .groups = 4},
        ops::Activation::Relu, 190);
}

TEST_F(Conv2dTest, GroupedFourGroupsOfFourOutputChannelsFromNchwInput) {
  check({.n = 2, .ih = 5, .iw = 7, .ic = 12, .oc = 16, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 4,
         .input_nchw = true},
        ops::Activation::Gelu, 200);
}

TEST_F(Conv2dTest, GroupedWithFourInputChannelsPerGroupOnBothOperandPaths) {
  // 16 input channels in 2 groups: 8 per group, whole texels, so the texel variant runs grouped too.
  check_both_paths({.n = 2, .ih = 13, .iw = 11, .ic = 16, .oc = 24, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
                   ops::Activation::Gelu, 210);
}

TEST_F(Conv2dTest, GroupedTilesOfOneTwoAndFourQuadsOnBothOperandPaths) {
  // A tile holds 4, 8 or 16 output channels, as many as divide the group: 32, 8 and 12 channels per
  // group here. 2 x 9 x 10 pixels (and 2 x 5 x 5 strided) are not multiples of the 12-pixel tile.
  check_both_paths({.n = 2, .ih = 9, .iw = 10, .ic = 24, .oc = 64, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
                   ops::Activation::Relu, 212);
  check_both_paths({.n = 2, .ih = 9, .iw = 10, .ic = 32, .oc = 32, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 4},
                   ops::Activation::None, 213);
  check_both_paths({.n = 2, .ih = 9, .iw = 10, .ic = 32, .oc = 48, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1,
                    .pw = 1, .groups = 4},
                   ops::Activation::Gelu, 214);
}

TEST_F(Conv2dTest, ChannelCountsNotMultipleOfFourUseTheStorageVariant) {
  EXPECT_EQ(check({.n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1},
                  ops::Activation::None, 220),
            "conv2d");
}

TEST_F(Conv2dTest, DispatchSpilledIntoYStillCoversEveryOutput) {
  // 2 x 13 x 11 pixels = 72 pixel tiles x 10 channel tiles = 720 invocations = 12 workgroups: with
  // at most 5 along x they form a 5 x 3 grid that linear_invocation_id() must unfold exactly.
  const ops::Conv2dShape shape{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1};
  DeviceInfo small = device();
  small.max_workgroup_count = {5, device().max_workgroup_count[1], 1};
  DeviceInfo small_storage = small;
  small_storage.texel_buffer_rgba32f = false;
  EXPECT_EQ(check(shape, ops::Activation::Relu, 230, &small_storage), "conv2d");
  check(shape, ops::Activation::Relu, 230, &small);
  ops::Conv2dShape nchw = shape;
  nchw.input_nchw = true;
  check(nchw, ops::Activation::None, 231, &small);
}

TEST_F(Conv2dTest, GroupedShapeWithOutputChannelsPerGroupNotMultipleOfFourRunsDense) {
  // 6 and 2 output channels per group: a 4-channel tile would span two groups, so the kernel runs
  // them as dense convolutions with block-diagonal weights; the result must still be the grouped one.
  const ops::Conv2dShape six{.n = 2, .ih = 5, .iw = 7, .ic = 4, .oc = 12, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2};
  const ops::Conv2dShape two{.n = 1, .ih = 9, .iw = 6, .ic = 8, .oc = 8, .kh = 1, .kw = 1, .groups = 4};
  const ops::Conv2dShape strided{.n = 2, .ih = 11, .iw = 11, .ic = 24, .oc = 24, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                                 .ph = 1, .pw = 1, .groups = 4};
  check(six, ops::Activation::None, 240);
  check(two, ops::Activation::Relu, 241);
  check(strided, ops::Activation::Relu, 242);
}

}  // namespace
}  // namespace vkvision
