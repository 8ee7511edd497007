// The direct convolution (ops::conv2d) through the conformance harness (ops/conformance.h): every
// case on the storage-buffer kernel and, where its shape allows (NHWC input, whole texels of input
// channels per group), the texel-buffer one; the fp16 cases on the fp16 variant of each.
#include <cmath>
#include <string>

#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "ops/inception_depthwise_conv2d.h"
#include "selftest/ops/op_check_lists.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

// Direct convolution in double. Input NHWC, or NCHW when shape.input_nchw; weight in PyTorch's
// [OC, IC/groups, KH, KW]; output NHWC. Each output is bias + KH*KW*IC/groups products, so the
// kernel's fp32 accumulation is within gamma_{terms+1} * sum of |terms| before the activation.
std::vector<Bounded> conv2d_reference(const ops::Conv2dShape& s, ops::Activation activation,
                                      const std::vector<float>& x, const std::vector<float>& w,
                                      const std::vector<float>& b) {
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
                const double term =
                    input(n, iy, ix, group * icg + c) * w[((size_t(o) * icg + c) * s.kh + ky) * s.kw + kx];
                sum += term;
                magnitude += std::abs(term);
              }
            }
          const double terms = double(s.kh) * s.kw * icg + 1;
          out[((size_t(n) * oh + y) * ow + x_) * s.oc + o] =
              activate(sum, gamma_n(terms) * magnitude, activation);
        }
  return out;
}

struct Conv2dParams {
  ops::Conv2dShape shape;
  ops::Activation activation = ops::Activation::None;
  uint32_t seed = 0;
  uint32_t max_groups_x = 0;  // a device allowing only this many workgroups along x (0: as is)
  // Also run the same tensor in the other layout (shape.input_nchw flipped): both must match the
  // reference, which proves input_nchw only changes addressing.
  bool both_layouts = false;
  std::optional<vk::ShaderId> shader;  // on the default path: the variant the device must choose
};

std::string describe(const Conv2dParams& p) {
  const ops::Conv2dShape& s = p.shape;
  return "N " + std::to_string(s.n) + ", " + std::to_string(s.ih) + "x" + std::to_string(s.iw) + "x" +
         std::to_string(s.ic) + " -> " + std::to_string(s.oc) + ", kernel " + std::to_string(s.kh) + "x" +
         std::to_string(s.kw) + " stride " + std::to_string(s.sh) + " pad " + std::to_string(s.ph) +
         ", groups " + std::to_string(s.groups) + ", " + ops::activation_name(p.activation);
}

// Storage, and texel where the shape allows it; fp32 or fp16 weights.
std::vector<Path> conv2d_paths(const ops::Conv2dShape& shape, bool half = false) {
  std::vector<Path> paths = {half ? kStorageHalf : kStorage};
  if (ops::conv2d_uses_texel_path(capable_device(), shape)) paths.push_back(half ? kTexelHalf : kTexel);
  return paths;
}

class Conv2dChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // Random O(1) data against the bounded reference. With fp16 weights the reference multiplies by
  // the half-rounded values.
  Outcome run_case(const Conv2dParams& p, const Path& path, const DeviceInfo& device_info) {
    DeviceInfo info = device_info;
    if (p.max_groups_x) info.max_workgroup_count = {p.max_groups_x, info.max_workgroup_count[1], 1};
    const ops::Conv2dShape& s = p.shape;
    if (path.texel() && !ops::conv2d_uses_texel_path(info, s))
      return {.not_run = "the operands exceed maxTexelBufferElements"};
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, p.seed);
    auto w = random_values(size_t(s.oc) * (s.ic / s.groups) * s.kh * s.kw, p.seed + 1);
    auto b = random_values(s.oc, p.seed + 2);
    if (path.half_weights) w = rounded_to_half(w);
    const size_t out_count = size_t(s.n) * s.oh() * s.ow() * s.oc;
    const auto packed = ops::pack_conv2d_weight(w, s);
    auto weight = path.half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.oc));
    Outcome outcome;
    outcome.shader = path.texel()        ? vk::ShaderId::conv2d_texel
                     : path.half_weights ? vk::ShaderId::conv2d_half_weights
                                         : vk::ShaderId::conv2d;
    if (p.shader) outcome.shader = p.shader;
    const auto expected = conv2d_reference(s, p.activation, x, w, b);
    std::vector<vk::BufferSlice> outputs;
    auto add = [&](const ops::Conv2dShape& shape, const std::vector<float>& values) {
      outputs.push_back(make_buffer(out_count));
      outcome.dispatches.push_back(ops::conv2d(info, shape, p.activation, make_buffer(values), weight, bias,
                                               outputs.back(), path.half_weights));
    };
    add(s, x);
    if (p.both_layouts) {
      ops::Conv2dShape other = s;
      other.input_nchw = !s.input_nchw;
      // The same logical tensor, transposed to the other layout.
      std::vector<float> transposed(x.size());
      for (uint32_t n = 0; n < s.n; ++n)
        for (uint32_t y = 0; y < s.ih; ++y)
          for (uint32_t x_ = 0; x_ < s.iw; ++x_)
            for (uint32_t c = 0; c < s.ic; ++c) {
              const size_t nhwc = ((size_t(n) * s.ih + y) * s.iw + x_) * s.ic + c,
                           nchw = ((size_t(n) * s.ic + c) * s.ih + y) * s.iw + x_;
              (s.input_nchw ? transposed[nhwc] : transposed[nchw]) = x[s.input_nchw ? nchw : nhwc];
            }
      add(other, transposed);
    }
    run(outcome.dispatches);
    for (const auto& output : outputs) append(outcome, read(output, out_count), expected);
    outcome.flops = 2.0 * outputs.size() * out_count * s.kh * s.kw * (s.ic / s.groups);
    return outcome;
  }
};

// clang-format off
std::vector<Case<Conv2dParams>> conv2d_cases() {
  using ops::Activation;
  std::vector<Case<Conv2dParams>> cases;
  auto add = [&](std::string name, Conv2dParams p) {
    cases.push_back({std::move(name), p, conv2d_paths(p.shape)});
  };
  // ConvNeXt's stem reads the user's NCHW image directly; 29x23 is not a multiple of 4 (the last
  // rows and columns are dropped, as in PyTorch).
  add("PatchifyStem4x4Stride4FromNchwInput",
      {{.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4,
        .input_nchw = true},
       Activation::None, 100});
  add("PatchifyStem4x4Stride4FromNhwcInput",
      {{.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4}, Activation::None,
       110});
  // The same logical tensor in both layouts must give the same result. 3x3 pad 1 so padding and
  // every tap are exercised.
  add("NchwAndNhwcInputsOfTheSameTensorGiveTheSameOutput",
      {.shape = {.n = 2, .ih = 5, .iw = 7, .ic = 3, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1},
       .seed = 120,
       .both_layouts = true});
  add("Downsample2x2Stride2",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 2, .kw = 2, .sh = 2, .sw = 2}, Activation::None,
       130});
  // Swin v2's PatchMerging as a 2x2/s2 conv on odd maps: 13x11 -> 7x6, the last row and column of
  // windows half outside the input.
  add("CeilModeReadsZerosPastTheBottomRightEdge",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 24, .kh = 2, .kw = 2, .sh = 2, .sw = 2,
        .ceil_mode = true},
       Activation::None, 135});
  add("Conv3x3Pad1Stride1WithGelu",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 3, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1}, Activation::Gelu,
       140});
  add("Conv3x3Pad1Stride2WithRelu",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1},
       Activation::Relu, 150});
  add("Pointwise1x1", {{.n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 3}, Activation::None, 160});
  // 2 x 13 x 11 pixels: 286 pixels = 72 tiles of 4, with one partial tile at the end.
  add("Pointwise1x1WithGelu", {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97}, Activation::Gelu, 170});
  // 8 output channels per group: two channel tiles per group, so a wrong group index shows.
  add("GroupedTwoGroupsReadsEachGroupsInputChannels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 6, .oc = 16, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
       Activation::None, 180});
  add("GroupedFourGroupsStride2WithRelu",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 32, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1,
        .groups = 4},
       Activation::Relu, 190});
  add("GroupedFourGroupsOfFourOutputChannelsFromNchwInput",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 12, .oc = 16, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 4,
        .input_nchw = true},
       Activation::Gelu, 200});
  // 16 input channels in 2 groups: 8 per group, whole texels, so the texel variant runs grouped too.
  add("GroupedWithFourInputChannelsPerGroup",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 16, .oc = 24, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
       Activation::Gelu, 210});
  // A tile holds 4, 8 or 16 output channels, as many as divide the group: 32, 8 and 12 channels per
  // group here. 2 x 9 x 10 pixels (and 2 x 5 x 5 strided) are not multiples of the 12-pixel tile.
  add("GroupedTilesOfFourQuads",
      {{.n = 2, .ih = 9, .iw = 10, .ic = 24, .oc = 64, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
       Activation::Relu, 212});
  add("GroupedTilesOfTwoQuads",
      {{.n = 2, .ih = 9, .iw = 10, .ic = 32, .oc = 32, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 4},
       Activation::None, 213});
  add("GroupedTilesOfOneQuadStrided",
      {{.n = 2, .ih = 9, .iw = 10, .ic = 32, .oc = 48, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1,
        .groups = 4},
       Activation::Gelu, 214});
  // 97 input channels: the device's own choice (default path) must be the storage variant.
  cases.push_back({"ChannelCountsNotMultipleOfFourUseTheStorageVariant",
                   {{.n = 2, .ih = 5, .iw = 7, .ic = 97, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1},
                    Activation::None, 220, 0, false, vk::ShaderId::conv2d},
                   {kDefault}});
  // 2 x 13 x 11 pixels = 72 pixel tiles x 10 channel tiles = 720 invocations = 12 workgroups: with
  // at most 5 along x they form a 5 x 3 grid that linear_invocation_id() must unfold exactly.
  add("DispatchSpilledIntoYStillCoversEveryOutput",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1}, Activation::Relu,
       230, 5});
  add("DispatchSpilledIntoYFromNchwInput",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 40, .kh = 3, .kw = 3, .ph = 1, .pw = 1,
        .input_nchw = true},
       Activation::None, 231, 5});
  // 6 and 2 output channels per group: a 4-channel tile would span two groups, so the kernel runs
  // them as dense convolutions with block-diagonal weights; the result must still be the grouped one.
  add("GroupedSixOutputChannelsPerGroupRunsDense",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 4, .oc = 12, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
       Activation::None, 240});
  add("GroupedTwoOutputChannelsPerGroupRunsDense",
      {{.n = 1, .ih = 9, .iw = 6, .ic = 8, .oc = 8, .kh = 1, .kw = 1, .groups = 4}, Activation::Relu, 241});
  add("GroupedStridedRunsDense",
      {{.n = 2, .ih = 11, .iw = 11, .ic = 24, .oc = 24, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1,
        .groups = 4},
       Activation::Relu, 242});

  // fp16 weights on both operand paths, against the reference on the half-rounded weights.
  auto add_half = [&](std::string name, Conv2dParams p) {
    cases.push_back({std::move(name), p, conv2d_paths(p.shape, true)});
  };
  add_half("HalfWeightsPatchifyStemFromNchw",
           {{.n = 2, .ih = 29, .iw = 23, .ic = 3, .oc = 97, .kh = 4, .kw = 4, .sh = 4, .sw = 4,
             .input_nchw = true},
            Activation::None, 404});
  add_half("HalfWeights3x3Stride2",
           {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .oc = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1,
             .pw = 1},
            Activation::Relu, 408});
  add_half("HalfWeightsGrouped",
           {{.n = 2, .ih = 13, .iw = 11, .ic = 16, .oc = 24, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
            Activation::Gelu, 412});
  add_half("HalfWeightsGroupedRunDense",
           {{.n = 3, .ih = 5, .iw = 7, .ic = 6, .oc = 10, .kh = 3, .kw = 3, .ph = 1, .pw = 1, .groups = 2},
            Activation::None, 416});
  return cases;
}

// clang-format on
void add_Conv2d_cases(CheckList& list) {
  add_cases<Conv2dChecks, Conv2dParams>(list, "Conv2d", conv2d_cases());
}

}  // namespace

void add_conv2d_checks(CheckList& list) { add_Conv2d_cases(list); }

}  // namespace vkvision::selftest
