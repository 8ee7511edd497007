// RepMLP's partition kernels against a plain C++ re-expression of repmlpnet.py's RepMLPBlock: the
// partition is computed as the reference's reshape/permute, the FC and conv per (S, h, w) patch row,
// and the un-partition as its view [N*C/S, hp, wp, S, h, w] -> permute -> [N, C, H, W]. Odd shapes:
// several patches per map, more than one channel per shareset (where the un-partition is not the
// inverse of the partition), patch sizes that are not multiples of 4, batch 2.
// Through the conformance harness (ops/conformance.h): the FC with fp32 and (16-bit storage) fp16
// weights, and the conv (one path).
#include <cmath>
#include <string>

#include "ops/partition_conv.h"
#include "ops/partition_linear.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {
namespace {

struct PartitionCase {
  uint32_t n, h, w, c, ph, pw, sharesets;
};

// NHWC offset of the element the reference's un-partition puts at row f of its [N, hp, wp, C, h*w]
// result (f = ((n * hp + a) * wp + b) * C + c, position i of the patch).
size_t unpartitioned_offset(const PartitionCase& s, size_t f, uint32_t i) {
  const uint32_t hp = s.h / s.ph, wp = s.w / s.pw;
  // The same memory viewed as [X, hp, wp, S, h, w].
  const size_t s2 = f % s.sharesets, b2 = (f / s.sharesets) % wp, a2 = (f / (s.sharesets * wp)) % hp,
               x = f / (size_t(s.sharesets) * wp * hp);
  // permute(0, 3, 1, 4, 2, 5) -> [X, S, hp, h, wp, w], read as [N, C, H, W].
  const size_t image_channel = x * s.sharesets + s2, n = image_channel / s.c, c = image_channel % s.c;
  const size_t row = a2 * s.ph + i / s.pw, col = b2 * s.pw + i % s.pw;
  return ((n * s.h + row) * s.w + col) * s.c + c;
}

// NHWC offset of position j of patch (a, b), channel c, image n.
size_t patch_element(const PartitionCase& s, size_t n, size_t a, size_t b, size_t c, uint32_t j) {
  return ((n * s.h + a * s.ph + j / s.pw) * s.w + b * s.pw + j % s.pw) * s.c + c;
}

struct PartitionParams {
  PartitionCase shape;
  uint32_t seed = 0;
  uint32_t kernel = 0;  // 0: the FC; else the conv with this (odd) kernel
  bool gate = false, residual = false;
};

std::string describe(const PartitionParams& p) {
  const PartitionCase& s = p.shape;
  return "N " + std::to_string(s.n) + ", " + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
         std::to_string(s.c) + ", patches " + std::to_string(s.ph) + "x" + std::to_string(s.pw) +
         ", sharesets " + std::to_string(s.sharesets) +
         (p.kernel ? ", conv " + std::to_string(p.kernel) : std::string(", FC"));
}

class PartitionMlpChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  static ops::PartitionShape shape_of(const PartitionCase& s) {
    return {.n = s.n, .h = s.h, .w = s.w, .c = s.c, .ph = s.ph, .pw = s.pw, .sharesets = s.sharesets};
  }

  Outcome run_case(const PartitionParams& p, const Path& path, const DeviceInfo& info) {
    if (p.kernel) return run_conv(p.shape, p.kernel, p.seed, info);
    return run_linear(p.shape, p.gate, p.residual, p.seed, path.half_weights, info);
  }

  // The FC with every epilogue (input affine, bias, gate, residual) against the reference. half_weights:
  // the FC weight stored as fp16, and the reference (row sums included) uses the rounded values.
  Outcome run_linear(const PartitionCase& s, bool gate, bool residual, uint32_t seed, bool half_weights,
                     const DeviceInfo& info) {
    const uint32_t hw = s.ph * s.pw, hp = s.h / s.ph, wp = s.w / s.pw;
    const size_t count = size_t(s.n) * s.h * s.w * s.c;
    const auto x = random_values(count, seed),
               random_weight = random_values(size_t(s.sharesets) * hw * hw, seed + 1),
               bias = random_values(size_t(s.sharesets) * hw, seed + 2),
               scale = random_values(s.c, seed + 3, 0.5f, 1.5f), shift = random_values(s.c, seed + 4),
               gates = random_values(size_t(s.n) * s.c, seed + 5, 0.0f, 1.0f),
               skip = random_values(count, seed + 6);
    const auto weight = half_weights ? rounded_to_half(random_weight) : random_weight;
    const ops::PartitionShape shape = shape_of(s);
    auto input = make_buffer(x), output = make_buffer(count);
    const auto packed = ops::pack_partition_weight(weight, shape);
    auto packed_weight = half_weights ? make_half_buffer(packed) : make_buffer(packed);
    auto packed_bias = make_buffer(ops::pack_partition_bias(bias, weight, shape));
    auto affine = make_buffer(ops::pack_partition_affine(scale, shift, s.c));
    ops::PartitionLinearBuffers buffers{.input = input,
                                        .weight = packed_weight,
                                        .bias_rowsum = packed_bias,
                                        .affine = affine,
                                        .output = output};
    if (gate) buffers.gate = make_buffer(gates);
    if (residual) buffers.residual = make_buffer(skip);
    Outcome outcome;
    outcome.dispatches = {ops::partition_linear(info, shape, buffers, half_weights)};
    outcome.shader =
        half_weights ? vk::ShaderId::partition_linear_half_weights : vk::ShaderId::partition_linear;
    outcome.flops = 2.0 * count * hw;
    run(outcome.dispatches);

    std::vector<Bounded> expected(count);
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t a = 0; a < hp; ++a)
        for (uint32_t b = 0; b < wp; ++b)
          for (uint32_t c = 0; c < s.c; ++c) {
            const size_t f = ((size_t(n) * hp + a) * wp + b) * s.c + c;
            const uint32_t k = c % s.sharesets;
            for (uint32_t i = 0; i < hw; ++i) {
              // fc3 on the BatchNorm-ed input: sum_j W[k][i][j] (x_j * scale + shift) + bias.
              double pre = bias[k * hw + i], magnitude = std::abs(pre);
              for (uint32_t j = 0; j < hw; ++j) {
                const double w = weight[(size_t(k) * hw + i) * hw + j],
                             v = x[patch_element(s, n, a, b, c, j)];
                pre += w * (v * scale[c] + shift[c]);
                magnitude += std::abs(w) * (std::abs(v * scale[c]) + std::abs(shift[c]));
              }
              const size_t target = unpartitioned_offset(s, f, i);
              const size_t target_channel = target % s.c, target_image = target / (size_t(s.h) * s.w * s.c);
              const double g = gate ? gates[target_image * s.c + target_channel] : 1.0;
              const double value = pre * g + (residual ? skip[target] : 0.0);
              // The kernel's sum of hw products plus a few roundings (scale, shift * rowsum, bias),
              // then the gate product and the residual sum.
              const double bound = gamma_n(hw + 6) * magnitude * std::abs(g) +
                                   2 * kUnit * (std::abs(pre * g) + std::abs(value));
              expected[target] = {value, bound};
            }
          }
    outcome.actual = read(output, count);
    outcome.expected = std::move(expected);
    return outcome;
  }

  Outcome run_conv(const PartitionCase& s, uint32_t kernel, uint32_t seed, const DeviceInfo& info) {
    const uint32_t hw = s.ph * s.pw, hp = s.h / s.ph, wp = s.w / s.pw, pad = kernel / 2;
    const size_t count = size_t(s.n) * s.h * s.w * s.c;
    const auto x = random_values(count, seed),
               weight = random_values(size_t(s.sharesets) * kernel * kernel, seed + 1),
               bias = random_values(s.sharesets, seed + 2);
    auto input = make_buffer(x), output = make_buffer(count), w = make_buffer(weight), b = make_buffer(bias);
    Outcome outcome;
    outcome.dispatches = {ops::partition_conv(info, shape_of(s), kernel, kernel, input, w, b, output)};
    outcome.shader = vk::ShaderId::partition_conv;
    outcome.flops = 2.0 * count * kernel * kernel;
    run(outcome.dispatches);

    std::vector<Bounded> expected(count);
    for (uint32_t n = 0; n < s.n; ++n)
      for (uint32_t a = 0; a < hp; ++a)
        for (uint32_t pb = 0; pb < wp; ++pb)
          for (uint32_t c = 0; c < s.c; ++c) {
            const size_t f = ((size_t(n) * hp + a) * wp + pb) * s.c + c;
            const uint32_t k = c % s.sharesets;
            for (uint32_t i = 0; i < hw; ++i) {
              // conv2d(padding = kernel / 2) on the patch alone: taps outside it read zero.
              double value = bias[k], magnitude = std::abs(value);
              for (uint32_t ky = 0; ky < kernel; ++ky)
                for (uint32_t kx = 0; kx < kernel; ++kx) {
                  const int y = int(i / s.pw + ky) - int(pad), xx = int(i % s.pw + kx) - int(pad);
                  if (y < 0 || xx < 0 || y >= int(s.ph) || xx >= int(s.pw)) continue;
                  const double term = double(weight[(k * kernel + ky) * kernel + kx]) *
                                      x[patch_element(s, n, a, pb, c, uint32_t(y) * s.pw + uint32_t(xx))];
                  value += term;
                  magnitude += std::abs(term);
                }
              expected[unpartitioned_offset(s, f, i)] = {value, gamma_n(kernel * kernel + 1) * magnitude};
            }
          }
    outcome.actual = read(output, count);
    outcome.expected = std::move(expected);
    return outcome;
  }
};

// clang-format off
void add_PartitionMlp_cases(CheckList& list) {
  add_cases<PartitionMlpChecks, PartitionParams>(list, "PartitionMlp", {
    // 2 x 3 patches of 3x3 (9 positions, not a multiple of 4), 10 channels in 5 sharesets: the
    // reference's un-partition moves results across patches and channels.
    {"LinearWithGateAndResidualOnManyPatchesAndSharedChannels",
     {{.n = 2, .h = 6, .w = 9, .c = 10, .ph = 3, .pw = 3, .sharesets = 5}, 1000, 0, true, true}},
    {"LinearWithoutEpiloguesOnNonSquarePatches",
     {{.n = 2, .h = 10, .w = 6, .c = 7, .ph = 5, .pw = 2, .sharesets = 1}, 1010}},
    // The official layout at its native resolution: one patch per map, every channel its own shareset
    // except pairs; columns (2 images x 2 groups) not a multiple of 4.
    {"LinearOnOneWholeMapPatchPerShareset",
     {{.n = 2, .h = 7, .w = 7, .c = 6, .ph = 7, .pw = 7, .sharesets = 3}, 1020, 0, true, false}},
    {"LinearWithHalfWeightsGateAndResidual",
     {{.n = 2, .h = 6, .w = 9, .c = 10, .ph = 3, .pw = 3, .sharesets = 5}, 1030, 0, true, true},
     {kDefaultHalf}},
    {"LinearWithHalfWeightsNonSquarePatches",
     {{.n = 3, .h = 10, .w = 6, .c = 7, .ph = 5, .pw = 2, .sharesets = 1}, 1040}, {kDefaultHalf}},
    {"ConvKeepsToItsPatch3x3",
     {{.n = 2, .h = 6, .w = 9, .c = 10, .ph = 3, .pw = 3, .sharesets = 5}, 1100, 3}},
    {"ConvKeepsToItsPatch5x5",
     {{.n = 2, .h = 10, .w = 6, .c = 7, .ph = 5, .pw = 2, .sharesets = 1}, 1110, 5}},
    {"ConvKeepsToItsPatch1x1", {{.n = 2, .h = 4, .w = 4, .c = 6, .ph = 2, .pw = 2, .sharesets = 2}, 1120, 1}},
});
}

// clang-format on

}  // namespace

void add_partition_mlp_checks(CheckList& list) { add_PartitionMlp_cases(list); }

}  // namespace vkvision::selftest
