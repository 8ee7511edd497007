// The elementwise kernel (ops::elementwise, one kernel, five modes) through the conformance harness
// (ops/conformance.h).
#include <cmath>
#include <string>

#include "ops/elementwise.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {
namespace {

// a * g + b in fp32: one rounded multiply and one rounded add (each within u/(1+u) relative), or a
// single fused one: within u (|a g| + |y|) of the exact value. The double reference's product is
// exact (24 x 24 bits) and its sum is within 2^-53 |y| of exact, which the bound also allows for.
double affine_error_bound(double product, double value) {
  return kUnit * (std::abs(product) + std::abs(value)) + 0x1p-53 * std::abs(value);
}

// An NHWC activation of batch 2, 5x7 pixels, 97 channels: 6790 elements, 107 workgroups (last partial).
constexpr uint32_t kChannels = 97;
constexpr size_t kCount = size_t(2) * 5 * 7 * kChannels;

struct ElementwiseParams {
  ops::ElementwiseMode mode;
  size_t count = kCount;
  uint32_t channels = kChannels;
  uint32_t seed = 0;
  float low = -1.0f, high = 1.0f;    // the range of a
  uint32_t max_groups_x = 0;         // a device allowing only this many workgroups along x (0: as is)
  std::array<uint32_t, 2> groups{};  // the grid that must then result (0: not checked)
};

std::string describe(const ElementwiseParams& p) {
  return std::to_string(p.count) + " values, " + std::to_string(p.channels) + " channels";
}

class ElementwiseChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  Outcome run_case(const ElementwiseParams& p, const Path&, const DeviceInfo& device_info) {
    using ops::ElementwiseMode;
    DeviceInfo info = device_info;
    if (p.max_groups_x) info.max_workgroup_count = {p.max_groups_x, info.max_workgroup_count[1], 1};
    const uint32_t channels = p.channels;
    auto a = random_values(p.count, p.seed, p.low, p.high);
    std::vector<float> b = {0.0f};
    uint32_t image = 1;
    if (p.mode == ElementwiseMode::Gelu) {
      // [-6, 6] covers both tails; add exact zero, tiny values and large magnitudes.
      const float specials[] = {0.0f, -0.0f, 1e-6f, -1e-6f, 0.5f,  -0.5f,
                                3.0f, -3.0f, 10.0f, -10.0f, 30.0f, -30.0f};
      for (size_t i = 0; i < std::size(specials); ++i) a[i] = specials[i];
    } else if (p.mode == ElementwiseMode::Relu) {
      a[0] = 0.0f;
      a[1] = -0.0f;
    } else if (p.mode == ElementwiseMode::Add || p.mode == ElementwiseMode::Multiply) {
      b = random_values(p.count, p.seed + 1);
    } else if (p.mode == ElementwiseMode::ChannelAffine && channels == kChannels) {
      auto scale = random_values(channels, p.seed + 1, 0.5f, 2.0f),
           shift = random_values(channels, p.seed + 2);
      b = scale;
      b.insert(b.end(), shift.begin(), shift.end());
    } else if (p.mode == ElementwiseMode::ChannelAffine) {
      b = random_values(2 * channels, p.seed + 1);
    } else if (p.mode == ElementwiseMode::ChannelGate) {
      b = random_values(2 * channels, p.seed + 1, 0.0f,
                        1.0f);  // batch 2: image n's channel c scales by b[n, c]
      image = uint32_t(p.count / 2);
    }
    auto a_buffer = make_buffer(a), b_buffer = make_buffer(b), output = make_buffer(a.size());
    Outcome outcome;
    outcome.dispatches = {
        ops::elementwise(info, p.mode, uint32_t(a.size()), channels, a_buffer, b_buffer, output, image)};
    outcome.shader = vk::ShaderId::elementwise;
    outcome.flops = double(a.size()) * (p.mode == ElementwiseMode::ChannelAffine ? 2 : 1);
    if (p.groups[0]) {
      require((outcome.dispatches[0].groups[0]) == (p.groups[0]),
              "outcome.dispatches[0].groups[0] == p.groups[0]");
      require((outcome.dispatches[0].groups[1]) == (p.groups[1]),
              "outcome.dispatches[0].groups[1] == p.groups[1]");
    }
    run(outcome.dispatches);
    outcome.actual = read(output, a.size());
    outcome.expected.resize(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const uint32_t c = uint32_t(i % channels);
      switch (p.mode) {
        // The input is exact, so only the approximation and its fp32 evaluation count (gelu_error_bound).
        case ElementwiseMode::Gelu:
          outcome.expected[i] = {gelu_reference(a[i]), gelu_error_bound(a[i])};
          break;
        // Vulkan requires fp32 addition to be correctly rounded: bit-identical to the host's float sum.
        case ElementwiseMode::Add: outcome.expected[i] = {a[i] + b[i], 0.0}; break;
        case ElementwiseMode::Relu: outcome.expected[i] = {std::max(a[i], 0.0f), 0.0}; break;
        // One rounded product: exact to the host's float product (Vulkan rounds fp32 multiplication
        // correctly).
        case ElementwiseMode::Multiply: outcome.expected[i] = {a[i] * b[i], 0.0}; break;
        case ElementwiseMode::ChannelAffine: {
          const double product = double(a[i]) * b[c], value = product + b[channels + c];
          outcome.expected[i] = {value, affine_error_bound(product, value)};
          break;
        }
        // One rounded product: exact to the float product of the same operands.
        case ElementwiseMode::ChannelGate:
          outcome.expected[i] = {a[i] * b[(i / image) * channels + c], 0.0};
          break;
      }
    }
    return outcome;
  }
};

using ops::ElementwiseMode;
// clang-format off
void add_Elementwise_cases(CheckList& list) {
  add_cases<ElementwiseChecks, ElementwiseParams>(list, "Elementwise", {
    {"GeluMatchesErfForm", {.mode = ElementwiseMode::Gelu, .seed = 600, .low = -6.0f, .high = 6.0f}},
    {"AddIsCorrectlyRounded", {.mode = ElementwiseMode::Add, .seed = 610}},
    {"MultiplyIsCorrectlyRounded", {.mode = ElementwiseMode::Multiply, .seed = 615}},
    {"ChannelAffineScalesAndShiftsEachChannel", {.mode = ElementwiseMode::ChannelAffine, .seed = 620}},
    {"ChannelAffineWithThreeChannels",
     {.mode = ElementwiseMode::ChannelAffine, .count = size_t(2) * 13 * 11 * 3, .channels = 3, .seed = 630}},
    {"ReluIsExact", {.mode = ElementwiseMode::Relu, .seed = 640}},
    // Batch 2 of 5x7 pixels: image n's channel c scales by gate[n, c].
    {"ChannelGateScalesEachImagesChannelsByItsOwnVector",
     {.mode = ElementwiseMode::ChannelGate, .seed = 660}},
    // Only 7 workgroups allowed along x: 107 workgroups become 7 x 16, the last 5 idle.
    {"DispatchSpilledIntoYCoversEveryElement",
     {.mode = ElementwiseMode::Add, .seed = 650, .max_groups_x = 7, .groups = {7, 16}}},
});
}

// clang-format on

}  // namespace

void add_elementwise_checks(CheckList& list) { add_Elementwise_cases(list); }

}  // namespace vkvision::selftest
