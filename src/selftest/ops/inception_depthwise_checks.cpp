// InceptionNeXt's channel-sliced depthwise kernel against the reference's split -> three depthwise
// convolutions -> concat, computed in double on NHWC, through the conformance harness
// (ops/conformance.h): the scalar kernel (storage buffers) on every case and the four-channel kernel
// (texel input, storage weights) where every branch boundary is a multiple of 4; fp32 and fp16 weights.
#include <string>

#include "ops/conv2d.h"
#include "ops/depthwise_conv2d.h"
#include "ops/inception_depthwise_conv2d.h"
#include "selftest/ops/op_check_lists.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

struct Branch {
  uint32_t kh, kw;
  const std::vector<float>* weight;  // PyTorch [G, 1, kh, kw]
  uint32_t first_channel;            // in the full tensor
  uint32_t bias_offset;              // into the concatenated bias
};

// Identity channels are copied, so their bound is 0; a branch output is bias + at most kh*kw products.
std::vector<Bounded> reference(const ops::InceptionDepthwiseShape& s, const std::vector<float>& x,
                               const std::vector<Branch>& branches, const std::vector<float>& bias) {
  std::vector<Bounded> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = {x[i], 0.0};
  for (const Branch& b : branches)
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t y = 0; y < s.h; ++y)
        for (uint32_t x_ = 0; x_ < s.w; ++x_)
          for (uint32_t g = 0; g < s.branch; ++g) {
            const uint32_t c = b.first_channel + g;
            double sum = bias[b.bias_offset + g], magnitude = std::abs(sum);
            for (uint32_t ky = 0; ky < b.kh; ++ky)
              for (uint32_t kx = 0; kx < b.kw; ++kx) {
                const int iy = int(y + ky) - int(b.kh / 2), ix = int(x_ + kx) - int(b.kw / 2);
                if (iy < 0 || ix < 0 || iy >= int(s.h) || ix >= int(s.w)) continue;  // zero padding
                const double term = double(x[((size_t(n) * s.h + iy) * s.w + ix) * s.c + c]) *
                                    (*b.weight)[(size_t(g) * b.kh + ky) * b.kw + kx];
                sum += term;
                magnitude += std::abs(term);
              }
            out[((size_t(n) * s.h + y) * s.w + x_) * s.c + c] = {
                sum, gamma_n(double(b.kh) * b.kw + 1) * magnitude};
          }
  return out;
}

std::vector<Path> inception_paths(const ops::InceptionDepthwiseShape& shape, bool half = false) {
  std::vector<Path> paths = {half ? kStorageHalf : kStorage};
  if (ops::inception_depthwise_quads_supported(capable_device(), shape))
    paths.push_back(half ? kTexelInputsHalf : kTexelInputs);
  return paths;
}

struct InceptionParams {
  ops::InceptionDepthwiseShape shape;
  uint32_t seed = 0;
};

std::string describe(const InceptionParams& p) {
  const ops::InceptionDepthwiseShape& s = p.shape;
  return "N " + std::to_string(s.n) + ", " + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
         std::to_string(s.c) + ", branches of " + std::to_string(s.branch) + ", square " +
         std::to_string(s.square) + ", band " + std::to_string(s.band);
}

class InceptionDepthwiseChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  // With fp16 weights the reference multiplies by the half-rounded values.
  Outcome run_case(const InceptionParams& p, const Path& path, const DeviceInfo& info) {
    const ops::InceptionDepthwiseShape& s = p.shape;
    const bool half_weights = path.half_weights;
    if (path.texel() && !ops::inception_depthwise_quads_supported(info, s))
      return {.not_run = "the input exceeds maxTexelBufferElements"};
    const uint32_t g = s.branch, seed = p.seed;
    auto x = random_values(size_t(s.n) * s.h * s.w * s.c, seed);
    auto square = random_values(size_t(g) * s.square * s.square, seed + 1),
         wide = random_values(size_t(g) * s.band, seed + 2),
         tall = random_values(size_t(g) * s.band, seed + 3), bias = random_values(3 * g, seed + 4);
    if (half_weights) {
      square = rounded_to_half(square);
      wide = rounded_to_half(wide);
      tall = rounded_to_half(tall);
    }
    const auto packed = ops::pack_inception_depthwise_weight(square, wide, tall, s);
    auto input = make_buffer(x), weight = half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias_buffer = make_buffer(bias), output = make_buffer(x.size());
    Outcome outcome;
    outcome.dispatches = {
        ops::inception_depthwise_conv2d(info, s, input, weight, bias_buffer, output, half_weights)};
    // The four-channel kernel wherever every branch boundary is a multiple of 4, else the scalar one.
    const vk::ShaderId kernel = path.texel() ? vk::ShaderId::inception_depthwise_conv2d_quads
                                             : vk::ShaderId::inception_depthwise_conv2d;
    outcome.shader = half_weights ? *vk::half_weights_variant(kernel) : kernel;
    require((ops::inception_depthwise_quads_supported(info, s)) ==
                (info.texel_buffer_rgba32f && s.c % 4 == 0 && s.branch % 4 == 0),
            "ops::inception_depthwise_quads_supported(info, s) == info.texel_buffer_rgba32f && s.c % 4 == 0 "
            "&& s.branch % 4 == 0");
    outcome.flops = 2.0 * s.n * s.h * s.w * g * (s.square * s.square + 2 * s.band);
    run(outcome.dispatches);
    const uint32_t id = s.identity();
    const std::vector<Branch> branches = {{s.square, s.square, &square, id, 0},
                                          {1, s.band, &wide, id + g, g},
                                          {s.band, 1, &tall, id + 2 * g, 2 * g}};
    outcome.actual = read(output, x.size());
    outcome.expected = reference(s, x, branches, bias);
    return outcome;
  }
};

// clang-format off
std::vector<Case<InceptionParams>> inception_cases() {
  std::vector<Case<InceptionParams>> cases;
  auto add = [&](std::string name, InceptionParams p, bool half = false) {
    cases.push_back({std::move(name), p, inception_paths(p.shape, half)});
  };
  // int(40 / 8) = 5: identity 25, branch boundaries at 25, 30, 35 (not multiples of 4); 13 columns.
  add("TinyMixerOn40ChannelsWithRaggedColumnTiles",
      {{.n = 2, .h = 9, .w = 13, .c = 40, .branch = 5, .square = 3, .band = 11}, 10});
  // 5x7 map with 11-tap bands: most taps of every band output fall in the padding.
  add("TinyMixerOn97ChannelsSmallerThanTheBand",
      {{.n = 2, .h = 5, .w = 7, .c = 97, .branch = 12, .square = 3, .band = 11}, 20});
  add("AttoMixerQuarterBranchesBand9",
      {{.n = 2, .h = 11, .w = 6, .c = 40, .branch = 10, .square = 3, .band = 9}, 30});
  // 3 * 11 = 33 = C: every channel is in a branch; a 1x1 map keeps only the centre taps.
  add("NoIdentityChannelsAndOneByOneMaps",
      {{.n = 2, .h = 1, .w = 1, .c = 33, .branch = 11, .square = 5, .band = 7}, 40});
  add("NoIdentityChannels3x17",
      {{.n = 1, .h = 3, .w = 17, .c = 33, .branch = 11, .square = 5, .band = 7}, 41});
  // InceptionNeXt's own channel counts (G = C / 8, C a multiple of 32): the four-channel kernel.
  add("FourChannelKernelRaggedLastTile",
      {{.n = 2, .h = 9, .w = 13, .c = 96, .branch = 12, .square = 3, .band = 11}, 60});
  add("FourChannelKernelMapSmallerThanTheBand",
      {{.n = 1, .h = 5, .w = 7, .c = 64, .branch = 8, .square = 3, .band = 11}, 61});
  add("FourChannelKernelNoIdentityChannels",
      {{.n = 2, .h = 1, .w = 1, .c = 48, .branch = 16, .square = 5, .band = 7}, 62});
  add("FourChannelKernelAttoBand9",
      {{.n = 1, .h = 6, .w = 11, .c = 40, .branch = 4, .square = 3, .band = 9}, 63});
  // An odd number of weights (3 * 3 * 5 + 2 * 11 * 5 = 155 halves, padded by to_half to 156).
  add("HalfWeightsOddWeightCount",
      {{.n = 2, .h = 9, .w = 13, .c = 40, .branch = 5, .square = 3, .band = 11}, 50}, true);
  add("HalfWeightsNoIdentityChannels",
      {{.n = 3, .h = 1, .w = 1, .c = 33, .branch = 11, .square = 5, .band = 7}, 55}, true);
  add("HalfWeightsFourChannelShape",
      {{.n = 2, .h = 9, .w = 13, .c = 96, .branch = 12, .square = 3, .band = 11}, 56}, true);
  return cases;
}

// clang-format on
void add_InceptionDepthwise_cases(CheckList& list) {
  add_cases<InceptionDepthwiseChecks, InceptionParams>(list, "InceptionDepthwise", inception_cases());
}

}  // namespace

void add_inception_depthwise_checks(CheckList& list) { add_InceptionDepthwise_cases(list); }

}  // namespace vkvision::selftest
