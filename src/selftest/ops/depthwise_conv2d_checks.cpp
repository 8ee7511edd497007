// The depthwise convolution (ops::depthwise_conv2d) and its fusion with LayerNorm through the
// conformance harness (ops/conformance.h): every case on the storage-buffer kernel and, where C % 4
// == 0, the texel-buffer one; the fp16 cases on the fp16 variant of each.
#include <cmath>
#include <string>

#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/gemm.h"  // pack_vec4_padded: the bias layout every kernel reads
#include "ops/inception_depthwise_conv2d.h"
#include "ops/layer_norm.h"
#include "selftest/ops/op_check_lists.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

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
              const double term = double(x[((size_t(n) * s.ih + iy) * s.iw + ix) * c_count + c]) *
                                  w[(size_t(c) * s.kh + ky) * s.kw + kx];
              sum += term;
              magnitude += std::abs(term);
            }
          out[((size_t(n) * oh + y) * ow + x_) * c_count + c] = {
              sum, gamma_n(double(s.kh) * s.kw + 1) * magnitude};
        }
  return out;
}

struct DepthwiseParams {
  ops::Conv2dShape shape;  // oc and groups are set to ic
  uint32_t seed = 0;
  uint32_t max_groups_x = 0;           // a device allowing only this many workgroups along x (0: as is)
  std::optional<vk::ShaderId> shader;  // on the default path: the variant the device must choose
};

std::string describe(const DepthwiseParams& p) {
  const ops::Conv2dShape& s = p.shape;
  return "N " + std::to_string(s.n) + ", " + std::to_string(s.ih) + "x" + std::to_string(s.iw) + "x" +
         std::to_string(s.ic) + ", kernel " + std::to_string(s.kh) + "x" + std::to_string(s.kw) + " stride " +
         std::to_string(s.sh) + " pad " + std::to_string(s.ph);
}

std::vector<Path> depthwise_paths(ops::Conv2dShape shape, bool half = false) {
  shape.oc = shape.groups = shape.ic;
  std::vector<Path> paths = {half ? kStorageHalf : kStorage};
  if (ops::depthwise_conv2d_uses_texel_path(capable_device(), shape))
    paths.push_back(half ? kTexelHalf : kTexel);
  return paths;
}

class DepthwiseConv2dChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // Random O(1) data against the bounded reference; with fp16 weights the reference multiplies by
  // the half-rounded values.
  Outcome run_case(const DepthwiseParams& p, const Path& path, const DeviceInfo& device_info) {
    DeviceInfo info = device_info;
    if (p.max_groups_x) info.max_workgroup_count = {p.max_groups_x, info.max_workgroup_count[1], 1};
    ops::Conv2dShape s = p.shape;
    s.oc = s.ic;
    s.groups = s.ic;
    if (path.texel() && !ops::depthwise_conv2d_uses_texel_path(info, s))
      return {.not_run = "the operands exceed maxTexelBufferElements"};
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, p.seed);
    auto w = random_values(size_t(s.ic) * s.kh * s.kw, p.seed + 1), b = random_values(s.ic, p.seed + 2);
    if (path.half_weights) w = rounded_to_half(w);
    const size_t out_count = size_t(s.n) * s.oh() * s.ow() * s.ic;
    const auto packed = ops::pack_depthwise_weight(w, s);
    auto input = make_buffer(x), weight = path.half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.ic)), output = make_buffer(out_count);
    Outcome outcome;
    outcome.dispatches = {ops::depthwise_conv2d(info, s, input, weight, bias, output, path.half_weights)};
    outcome.shader = path.texel()        ? vk::ShaderId::depthwise_conv2d_texel
                     : path.half_weights ? vk::ShaderId::depthwise_conv2d_half_weights
                                         : vk::ShaderId::depthwise_conv2d;
    if (p.shader) outcome.shader = p.shader;
    outcome.flops = 2.0 * out_count * s.kh * s.kw;
    run(outcome.dispatches);
    outcome.actual = read(output, out_count);
    outcome.expected = depthwise_reference(s, x, w, b);
    return outcome;
  }
};

// clang-format off
std::vector<Case<DepthwiseParams>> depthwise_cases() {
  std::vector<Case<DepthwiseParams>> cases;
  auto add = [&](std::string name, DepthwiseParams p) {
    cases.push_back({std::move(name), p, depthwise_paths(p.shape)});
  };
  // C = 3: one channel tile of which the fourth lane is past the end.
  add("Kernel7x7Pad3OnThreeChannels",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 3, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 300});
  add("Kernel7x7Pad3On40Channels",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 310});
  // 5x7 image with a 7x7 kernel: most taps of every output fall in the padding.
  add("Kernel7x7Pad3On97Channels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 320});
  add("Kernel3x3Stride2Pad1",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, 330});
  add("Kernel3x3Stride2Pad1On97Channels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, 335});
  add("HorizontalBand1x11Pad0And5",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 97, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 340});
  add("HorizontalBand1x11OnThreeChannels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 345});
  add("HorizontalBand1x11On40Channels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 40, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 347});
  add("VerticalBand11x1Pad5And0",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 11, .kw = 1, .ph = 5, .pw = 0}, 350});
  add("VerticalBand11x1OnThreeChannels",
      {{.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 11, .kw = 1, .ph = 5, .pw = 0}, 355});
  // The device's own choice (default path) for C % 4 != 0 must be the storage variant.
  cases.push_back({"ChannelCountsNotMultipleOfFourUseTheStorageVariant",
                   {{.n = 2, .ih = 5, .iw = 7, .ic = 97, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 370, 0,
                    vk::ShaderId::depthwise_conv2d},
                   {kDefault}});
  cases.push_back({"ThreeChannelsUseTheStorageVariant",
                   {{.n = 2, .ih = 5, .iw = 7, .ic = 3, .kh = 3, .kw = 3, .ph = 1, .pw = 1}, 371, 0,
                    vk::ShaderId::depthwise_conv2d},
                   {kDefault}});
  // 2 x 13 output rows x 3 column tiles x 10 channel tiles = 780 invocations = 13 workgroups: with
  // at most 5 along x they form a 5 x 3 grid.
  add("DispatchSpilledIntoYStillCoversEveryOutput",
      {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 380, 5});
  // fp16 weights on both operand paths, against the reference on the half-rounded weights.
  auto add_half = [&](std::string name, DepthwiseParams p) {
    cases.push_back({std::move(name), p, depthwise_paths(p.shape, true)});
  };
  add_half("HalfWeights7x7",
           {{.n = 2, .ih = 13, .iw = 11, .ic = 40, .kh = 7, .kw = 7, .ph = 3, .pw = 3}, 504});
  // 97 channels: the storage path only.
  add_half("HalfWeights3x3Stride2On97Channels",
           {{.n = 3, .ih = 5, .iw = 7, .ic = 97, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1}, 508});
  add_half("HalfWeightsBand1x11",
           {{.n = 2, .ih = 5, .iw = 7, .ic = 40, .kh = 1, .kw = 11, .ph = 0, .pw = 5}, 512});
  return cases;
}

// clang-format on
void add_DepthwiseConv2d_cases(CheckList& list) {
  add_cases<DepthwiseConv2dChecks, DepthwiseParams>(list, "DepthwiseConv2d", depthwise_cases());
}

// The fused depthwise + LayerNorm kernel (texel weights only, fp32 or fp16) against the two kernels
// it replaces, run back to back on the same weights.
struct DepthwiseNormParams {
  uint32_t n, ih, iw, c, stride, groups;
  float offset;
  uint32_t seed;
};

std::string describe(const DepthwiseNormParams& p) {
  return "N " + std::to_string(p.n) + ", " + std::to_string(p.ih) + "x" + std::to_string(p.iw) + "x" +
         std::to_string(p.c) + ", stride " + std::to_string(p.stride);
}

class DepthwiseLayerNormChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  Outcome run_case(const DepthwiseNormParams& v, const Path& path, const DeviceInfo& info) {
    const bool half_weights = path.half_weights;
    ops::Conv2dShape s{.n = v.n, .ih = v.ih, .iw = v.iw, .ic = v.c, .oc = v.c, .kh = 7, .kw = 7};
    s.sh = s.sw = v.stride;
    s.ph = s.pw = 3;
    s.groups = v.c;
    if (!ops::depthwise_layer_norm_supported(info, s)) {
      // Without texel buffers the plan keeps the two kernels; asking for the fused one is an error.
      require_throws([&] { ops::depthwise_conv2d_layer_norm(info, s, 1e-6f, {}, {}, {}, {}, {}); },
                     "ops::depthwise_conv2d_layer_norm(info, s, 1e-6f, {}, {}, {}, {}, {}) throws");
      return {.not_run = "the fused kernel cannot read this map through a texel buffer"};
    }
    require((ops::depthwise_layer_norm_tiling(s).groups) == (v.groups),
            "ops::depthwise_layer_norm_tiling(s).groups == v.groups");
    require((ops::depthwise_layer_norm_tiling(s).rows) == (v.stride == 1 ? 2u : 1u),
            "ops::depthwise_layer_norm_tiling(s).rows == v.stride == 1 ? 2u : 1u");
    uint32_t seed = v.seed;
    auto x = random_values(size_t(s.n) * s.ih * s.iw * s.ic, seed++),
         w = random_values(size_t(s.ic) * 49, seed++), b = random_values(s.ic, seed++),
         gamma = random_values(s.ic, seed++, 0.5f, 1.5f), beta = random_values(s.ic, seed++);
    for (float& value : b) value += v.offset;
    const size_t count = size_t(s.n) * s.oh() * s.ow() * s.ic;
    const auto packed = ops::pack_depthwise_weight(w, s);
    auto input = make_buffer(x), weight = half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(ops::pack_vec4_padded(b, s.ic)),
         affine = make_buffer(ops::pack_layer_norm_affine(gamma, beta)), fused = make_buffer(count),
         unnormalised = make_buffer(count), separate = make_buffer(count);
    Outcome outcome;
    outcome.dispatches = {
        ops::depthwise_conv2d_layer_norm(info, s, 1e-6f, input, weight, bias, affine, fused, half_weights)};
    outcome.flops = 2.0 * count * 49;
    run({outcome.dispatches[0],
         ops::depthwise_conv2d(info, s, input, weight, bias, unnormalised, half_weights),
         ops::layer_norm(info, uint32_t(count / s.ic), s.ic, 1e-6f, unnormalised, affine, separate)});
    // Same sums in the same order; only the statistics' summation order differs (per group and vec4
    // lane vs sequential): a few ulps of the normalised O(1) outputs.
    const auto separate_values = read(separate, count);
    append(outcome, read(fused, count), with_tolerance(separate_values, 1e-5, 1e-5));

    // Statistics mode (the norm left to the GEMM after it): the output is the plain depthwise result
    // and (mean, 1/std) per pixel normalise it to the separate LayerNorm's output.
    const size_t pixels = count / s.ic;
    auto raw = make_buffer(count), statistics = make_buffer(2 * pixels);
    run({ops::depthwise_conv2d_layer_norm(info, s, 1e-6f, input, weight, bias, affine, raw, half_weights,
                                          statistics)});
    const auto raw_values = read(raw, count), stats = read(statistics, 2 * pixels);
    append(outcome, raw_values, with_tolerance(read(unnormalised, count), 1e-6, 1e-6));
    std::vector<float> normalised(count);
    for (size_t i = 0; i < count; ++i) {
      const size_t pixel = i / s.ic, channel = i % s.ic;
      normalised[i] =
          (raw_values[i] - stats[2 * pixel]) * stats[2 * pixel + 1] * gamma[channel] + beta[channel];
    }
    append(outcome, normalised, with_tolerance(separate_values, 1e-5, 1e-5));
    return outcome;
  }
};

// 13 columns: the last 8-pixel tile is partly outside; 9 rows: the last two-row tile (stride 1) is
// half outside; batch 2; stride 1 and 2. The shapes split each tile's channels 1, 2, 4 and 8 ways
// (depthwise_layer_norm_tiling), 8 over 10 quads unevenly; a bias offset of 25 puts every pixel's
// mean far from 0, where the groups' statistics must combine without cancelling.
std::vector<Case<DepthwiseNormParams>> depthwise_norm_cases() {
  const std::vector<DepthwiseNormParams> variants = {{2, 9, 13, 40, 1, 8, 0.0f},  {2, 9, 13, 40, 2, 8, 0.0f},
                                                     {1, 32, 64, 16, 1, 1, 0.0f}, {1, 16, 16, 16, 1, 4, 0.0f},
                                                     {1, 16, 8, 8, 1, 2, 25.0f},  {2, 9, 13, 40, 2, 8, 25.0f},
                                                     {1, 32, 40, 12, 1, 2, 25.0f}};
  std::vector<Case<DepthwiseNormParams>> cases;
  uint32_t seed = 41;
  for (DepthwiseNormParams v : variants) {
    v.seed = seed;
    seed += 5;
    cases.push_back({"N" + std::to_string(v.n) + "Map" + std::to_string(v.ih) + "x" + std::to_string(v.iw) +
                         "C" + std::to_string(v.c) + "Stride" + std::to_string(v.stride) + "Offset" +
                         std::to_string(int(v.offset)),
                     v,
                     {kTexel, kTexelHalf}});
  }
  return cases;
}

void add_DepthwiseLayerNorm_cases(CheckList& list) {
  add_cases<DepthwiseLayerNormChecks, DepthwiseNormParams>(list, "DepthwiseLayerNorm",
                                                           depthwise_norm_cases());
}

}  // namespace

void add_depthwise_conv2d_checks(CheckList& list) {
  add_DepthwiseConv2d_cases(list);
  add_DepthwiseLayerNorm_cases(list);
}

}  // namespace vkvision::selftest
