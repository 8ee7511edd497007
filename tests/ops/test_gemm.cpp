// The GEMM (ops/gemm.h) through the conformance harness (ops/conformance.h): every case on every
// path its shape allows, the register family on storage and texel operands and the shared-memory
// tiled family, with fp32 weights, and the fp16 cases on the fp16 variant of each.
#include <cmath>

#include "ops/conformance.h"
#include "ops/error_bounds.h"
#include "ops/gemm.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Path;

class GemmTest : public testing::DeviceTest {};

TEST_F(GemmTest, TexelPathRejectsKNotMultipleOfFour) {
  auto input = make_buffer(37 * 3), weight = make_buffer(3 * 40), bias = make_buffer(40),
       output = make_buffer(37 * 40);
  EXPECT_THROW(ops::gemm(device(), {.m = 37, .n = 40, .k = 3}, ops::Activation::None,
                         {input, weight, bias, output}, ops::GemmOperands::Texel),
               Error);
  EXPECT_FALSE(ops::gemm_texel_supported(device(), {.m = 37, .n = 40, .k = 3}));
}

// On a device whose limits the tiled family exceeds, it is refused before any pipeline is created,
// naming the limit (the plan then takes the register family: graph::choose_kernel_family). Runs on
// every device: the limits are lowered in a copy of this device's properties.
TEST_F(GemmTest, TiledFamilyIsRefusedWhereItsWorkgroupOrSharedMemoryDoesNotFit) {
  auto x = make_buffer(4 * 8), w = make_buffer(8 * 8), b = make_buffer(16), y = make_buffer(4 * 8);
  const ops::GemmShape shape{.m = 4, .n = 8, .k = 8};
  DeviceInfo small_workgroups = device();
  small_workgroups.max_workgroup_invocations = 128;
  DeviceInfo small_shared = device();
  small_shared.max_compute_shared_memory = 8192;
  small_shared.max_workgroup_invocations = small_shared.max_workgroup_size[0] = 256;
  for (const auto& [limited, words] :
       {std::pair{small_workgroups, "workgroups of 256 invocations and the device allows 128"},
        std::pair{small_shared, "8448 bytes of shared memory and the device has 8192"}}) {
    EXPECT_NE(ops::gemm_tiled_unsupported_reason(limited).find(words), std::string::npos)
        << ops::gemm_tiled_unsupported_reason(limited);
    try {
      ops::gemm(limited, shape, ops::Activation::None, {x, w, b, y}, ops::GemmOperands::Tiled);
      ADD_FAILURE() << "the tiled GEMM was built for a device that cannot run it";
    } catch (const DeviceError& error) {
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
    EXPECT_NO_THROW(
        ops::gemm(limited, shape, ops::Activation::None, {x, w, b, y}, ops::GemmOperands::Storage));
  }
}

TEST_F(GemmTest, RowStatisticsAreRefusedByTheTiledFamily) {
  auto x = make_buffer(4 * 8), w = make_buffer(8 * 8), b = make_buffer(16), y = make_buffer(4 * 8),
       st = make_buffer(8);
  ops::GemmBuffers buffers{x, w, b, y, std::nullopt, st};
  EXPECT_THROW(
      ops::gemm(device(), {.m = 4, .n = 8, .k = 8}, ops::Activation::None, buffers, ops::GemmOperands::Tiled),
      Error);
}

TEST_F(GemmTest, NormalizedRowsOfAConstantRowGiveTheBias) {
  if (const std::string reason = ops::gemm_tiled_unsupported_reason(device()); !reason.empty())
    GTEST_SKIP() << "path TiledFp32: " << reason;
  // A constant row has variance 0: rstd = 1/sqrt(eps) times an exactly zero centred product.
  const ops::GemmShape shape{.m = 3, .n = 8, .k = 16};
  std::vector<float> x(shape.m * shape.k, 2.5f), w = random_values(shape.n * shape.k, 3),
                                                 b = random_values(shape.n, 4);
  auto input = make_buffer(x), weight = make_buffer(ops::pack_gemm_weight(w, shape.n, shape.k)),
       bias = make_buffer(ops::pack_bias_and_column_sums(b, w, shape.n, shape.k)),
       output = make_buffer(shape.m * shape.n);
  run({ops::gemm(device(), shape, ops::Activation::None, {input, weight, bias, output},
                 ops::GemmOperands::Tiled, false, 1e-5f)});
  const auto y = read(output, shape.m * shape.n);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], b[i % shape.n], 1e-6) << i;
}

TEST_F(GemmTest, NormalizedRowsAreRefusedByTheRegisterFamily) {
  auto input = make_buffer(4 * 8), weight = make_buffer(8 * 8), bias = make_buffer(16),
       output = make_buffer(4 * 8);
  EXPECT_THROW(ops::gemm(device(), {.m = 4, .n = 8, .k = 8}, ops::Activation::None,
                         {input, weight, bias, output}, ops::GemmOperands::Auto, false, 1e-5f),
               Error);
}

TEST_F(GemmTest, FamilyIsChosenFromQueriedPropertiesOrLeftToATrial) {
  auto with = [&](const char* type, uint32_t subgroup_size) {
    DeviceInfo info = device();
    info.type = type;
    info.subgroup_size = subgroup_size;
    return ops::preferred_gemm_operands(info);
  };
  EXPECT_EQ(with("CPU", 8), ops::GemmOperands::Auto);
  EXPECT_EQ(with("CPU", 4), ops::GemmOperands::Auto);
  EXPECT_EQ(with("discrete GPU", 32), ops::GemmOperands::Tiled);
  EXPECT_EQ(with("integrated GPU", 64), ops::GemmOperands::Tiled);
  // Unclear: the plan times both families once.
  EXPECT_EQ(with("integrated GPU", 16), std::nullopt);
  EXPECT_EQ(with("discrete GPU", 8), std::nullopt);
  EXPECT_EQ(with("CPU", 16), std::nullopt);
}

}  // namespace
}  // namespace vkvision
