// fp16 weight storage: the host's float -> half rounding (exact values, ties to even, overflow,
// subnormals; and against the compiler's own conversion where it has _Float16), and the dispatch
// rewrite that makes a kernel read its weight as half.
#include <bit>
#include <cmath>
#include <limits>

#include "ops/half_weights.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using ops::float_to_half;
using ops::half_to_float;

TEST(FloatToHalfTest, RepresentableValuesAreExact) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.5f), 0x3800);
  EXPECT_EQ(float_to_half(0.333251953125f), 0x3555);  // the half nearest 1/3, exactly
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);         // largest finite half
  EXPECT_EQ(float_to_half(0x1p-14f), 0x0400);         // smallest normal
  EXPECT_EQ(float_to_half(0x1p-24f), 0x0001);         // smallest subnormal
  EXPECT_EQ(float_to_half(0x3ffp-24f), 0x03ff);       // largest subnormal
}

TEST(FloatToHalfTest, RoundsToNearestWithTiesToEven) {
  // Halves near 1 are 2^-10 apart; 1 + 2^-11 is halfway between 0x3c00 (even) and 0x3c01.
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-11f), 0x3c02);         // halfway between 0x3c01 and 0x3c02 (even)
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f + 0x1p-23f), 0x3c01);  // just past halfway: up
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f - 0x1p-23f), 0x3c00);  // just short of it: down
  EXPECT_EQ(float_to_half(-(1.0f + 3 * 0x1p-11f)), 0xbc02);      // symmetric in the sign
  EXPECT_EQ(float_to_half(2.0f - 0x1p-12f), 0x4000);             // the carry moves to the next binade
}

TEST(FloatToHalfTest, OverflowGivesInfinityFromHalfwayPastTheLargestHalf) {
  EXPECT_EQ(float_to_half(65519.996f), 0x7bff);  // below halfway to 65536: the largest half
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);    // halfway, and 0x7bff is odd: up, to infinity
  EXPECT_EQ(float_to_half(1e10f), 0x7c00);
  EXPECT_EQ(float_to_half(-1e10f), 0xfc00);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xfc00);
  const uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
}

TEST(FloatToHalfTest, SmallValuesBecomeSubnormalsOrZeroWithTiesToEven) {
  EXPECT_EQ(float_to_half(0x1p-25f), 0x0000);  // halfway between 0 and 2^-24: to 0 (even)
  EXPECT_EQ(float_to_half(0x1p-25f * (1 + 0x1p-23f)), 0x0001);
  EXPECT_EQ(float_to_half(-0x1p-25f), 0x8000);
  EXPECT_EQ(float_to_half(1e-30f), 0x0000);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(float_to_half(3 * 0x1p-25f), 0x0002);         // 1.5 units: halfway, to 2 (even)
  EXPECT_EQ(float_to_half(5 * 0x1p-25f), 0x0002);         // 2.5 units: to 2 (even)
  EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-25f), 0x0400);  // halfway below the smallest normal: up to it
  EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-24f), 0x03ff);
}

TEST(FloatToHalfTest, EveryHalfRoundTrips) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    const float value = half_to_float(half);
    if (std::isnan(value)) {
      EXPECT_EQ(half & 0x7c00, 0x7c00);
      EXPECT_NE(half & 0x03ff, 0);
      continue;
    }
    ASSERT_EQ(float_to_half(value), half) << "half 0x" << std::hex << bits;
  }
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001), 0x1p-24f);
}

#ifdef __FLT16_MAX__
TEST(FloatToHalfTest, AgreesWithTheCompilersConversionAcrossAllBinades) {
  // GCC and Clang convert float -> _Float16 with IEEE round-to-nearest-even: an independent reference.
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 997) {
    const float value = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(value)) continue;
    const auto expected = std::bit_cast<uint16_t>(static_cast<_Float16>(value));
    ASSERT_EQ(float_to_half(value), expected) << "float bits 0x" << std::hex << bits;
  }
}
#endif

TEST(ToHalfTest, PadsToWholeFourHalfTexels) {
  EXPECT_EQ(ops::to_half(std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f, 5.0f}),
            (std::vector<uint16_t>{0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0, 0, 0}));
  EXPECT_TRUE(ops::to_half({}).empty());
}

TEST(UseHalfWeightsTest, TexelBindingsGetAnRgba16fViewAndStorageBindingsTheHalfVariant) {
  DeviceInfo device;
  device.texel_buffer_rgba16f = true;
  device.storage_buffer_16bit = true;
  vk::Dispatch texel{.shader = vk::ShaderId::gemm_texel, .texel = 0b11};
  ops::use_half_weights(texel, 1, device);
  EXPECT_EQ(texel.shader, vk::ShaderId::gemm_texel);
  EXPECT_EQ(texel.half_texel, 0b10u);
  vk::Dispatch storage{.shader = vk::ShaderId::gemm};
  ops::use_half_weights(storage, 1, device);
  EXPECT_EQ(storage.shader, vk::ShaderId::gemm_half_weights);
  EXPECT_EQ(storage.half_texel, 0u);
}

TEST(UseHalfWeightsTest, PathTheDeviceCannotReadHalfOnIsAnError) {
  DeviceInfo texel_only;
  texel_only.texel_buffer_rgba16f = true;
  vk::Dispatch storage{.shader = vk::ShaderId::gemm};
  EXPECT_THROW(ops::use_half_weights(storage, 1, texel_only), Error);
  DeviceInfo storage_only;
  storage_only.storage_buffer_16bit = true;
  vk::Dispatch texel{.shader = vk::ShaderId::gemm_texel, .texel = 0b11};
  EXPECT_THROW(ops::use_half_weights(texel, 1, storage_only), Error);
}

}  // namespace
}  // namespace vkvision
