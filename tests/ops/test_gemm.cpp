#include <cmath>

#include "ops/error_bounds.h"
#include "ops/gemm.h"
#include "support/device_test.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

using testing::Bounded;
using testing::DeviceTest;

class GemmTest : public DeviceTest {
 protected:
  static constexpr float kStatisticsEps = 1e-6f;
  // (mean, 1/sqrt(var + eps)) of each row, in double, rounded to fp32: what the depthwise+LayerNorm
  // kernel hands the GEMM.
  static std::vector<float> row_statistics(const std::vector<float>& x, uint32_t m, uint32_t k, float eps) {
    std::vector<float> statistics;
    for (uint32_t r = 0; r < m; ++r) {
      double mean = 0, variance = 0;
      for (uint32_t i = 0; i < k; ++i) mean += x[size_t(r) * k + i];
      mean /= k;
      for (uint32_t i = 0; i < k; ++i) variance += (x[size_t(r) * k + i] - mean) * (x[size_t(r) * k + i] - mean);
      statistics.push_back(float(mean));
      statistics.push_back(float(1.0 / std::sqrt(variance / k + eps)));
    }
    return statistics;
  }
  struct Case {
    ops::GemmShape shape;
    ops::Activation activation = ops::Activation::None;
    bool residual = false;
    ops::GemmOperands operands = ops::GemmOperands::Auto;
    uint32_t seed = 10;
    bool half_weights = false;  // the weight stored as fp16; the reference multiplies by the rounded values
    std::optional<float> normalize_rows;  // LayerNorm each input row first, with this epsilon
    bool row_statistics = false;          // ... by given (mean, 1/std) per row instead (eps 1e-6)
    float input_offset = 0;               // added to every input value (a row mean far from 0)
  };

  // Runs the kernel on random O(1) data and returns its output next to the bounded reference.
  // `info` is the DeviceInfo the dispatch is built for (a doctored copy in the groups_for tests).
  struct Result {
    std::vector<float> actual;
    std::vector<Bounded> expected;
    vk::Dispatch dispatch;
  };
  Result run_case(const Case& c, const DeviceInfo& info) {
    const auto& s = c.shape;
    auto x = random_values(size_t(s.m) * s.k, c.seed), w = random_values(size_t(s.n) * s.k, c.seed + 1),
         b = random_values(s.n, c.seed + 2), r = random_values(size_t(s.m) * s.n, c.seed + 3);
    for (float& value : x) value += c.input_offset;
    const bool normalized = c.normalize_rows || c.row_statistics;
    if (c.half_weights) w = rounded_to_half(w);
    const auto packed = ops::pack_gemm_weight(w, s.n, s.k);
    auto input = make_buffer(x), weight = c.half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(normalized ? ops::pack_bias_and_column_sums(b, w, s.n, s.k) : ops::pack_vec4_padded(b, s.n)),
         output = make_buffer(size_t(s.m) * s.n);
    ops::GemmBuffers buffers{input, weight, bias, output, std::nullopt};
    if (c.residual) buffers.residual = make_buffer(r);
    const auto statistics = row_statistics(x, s.m, s.k, kStatisticsEps);
    if (c.row_statistics) buffers.row_statistics = make_buffer(statistics);
    Result result;
    result.dispatch = ops::gemm(info, s, c.activation, buffers, c.operands, c.half_weights, c.normalize_rows);
    run({result.dispatch});
    result.actual = read(output, size_t(s.m) * s.n);
    result.expected.resize(result.actual.size());
    for (uint32_t m = 0; m < s.m; ++m) {
      const float* row = x.data() + size_t(m) * s.k;
      // LayerNorm in double; the kernel's statistics are of x - x[0] (shifted_mean below).
      double mean = 0, variance = 0;
      for (uint32_t k = 0; k < s.k; ++k) mean += row[k];
      mean /= s.k;
      for (uint32_t k = 0; k < s.k; ++k) variance += (row[k] - mean) * (row[k] - mean);
      variance /= s.k;
      const double rstd = c.normalize_rows   ? 1.0 / std::sqrt(variance + *c.normalize_rows)
                          : c.row_statistics ? 1.0 / std::sqrt(variance + kStatisticsEps)
                                             : 1.0;
      const double shifted_mean = mean - row[0];
      for (uint32_t n = 0; n < s.n; ++n) {
        double sum = b[n], magnitude = std::abs(b[n]), product = 0;
        for (uint32_t k = 0; k < s.k; ++k) {
          const double wk = w[size_t(n) * s.k + k];
          const double xk = normalized ? (row[k] - mean) * rstd : row[k];
          sum += xk * wk;
          product += xk * wk;
          // Normalised: the kernel sums (x - x[0]) w and subtracts shifted_mean * colsum(w), each a
          // sum of K products whose terms are at most |xhat| + |shifted_mean| rstd (times |w|).
          magnitude += (std::abs(xk) + (c.normalize_rows ? 2 * std::abs(shifted_mean) * rstd : 0.0)) * std::abs(wk);
          // Given statistics: the kernel sums x w unshifted (terms up to |x| rstd after scaling) and
          // subtracts mean * colsum(w) (terms |mean| rstd |w|).
          if (c.row_statistics) magnitude += (std::abs(row[k]) + std::abs(mean)) * rstd * std::abs(wk);
        }
        // fp32 accumulation of K products onto the bias: gamma_{K+1} * sum of |terms| (two more
        // roundings for the shift and the correction where normalised). Normalised, rstd carries the
        // error of the one-pass variance E[a^2] - E[a]^2 of a = x - x[0]: gamma_K (1 + 3 E[a]^2 / var)
        // relative, halved by the square root, plus a few roundings; it scales the normalised product.
        double bound = testing::gamma_n(s.k + 3) * magnitude;
        if (c.row_statistics) bound += 4 * testing::kUnit * std::abs(product);  // mean, rstd rounded to fp32
        if (c.normalize_rows)
          bound += (0.5 * testing::gamma_n(s.k) * (1 + 3 * shifted_mean * shifted_mean * rstd * rstd) +
                    4 * testing::kUnit) * std::abs(product);
        Bounded y = testing::activate(sum, bound, c.activation);
        if (c.residual) {
          // The residual is added after the activation: one more rounding of the sum.
          y.value += r[size_t(m) * s.n + n];
          y.bound += testing::kUnit * std::abs(y.value);
        }
        result.expected[size_t(m) * s.n + n] = y;
      }
    }
    return result;
  }
  Result run_case(const Case& c) { return run_case(c, device()); }
};

TEST_F(GemmTest, MatchesReferenceOnOddShapesWithGeluAndResidual) {
  const ops::GemmShape shape{.m = 37, .n = 97, .k = 40};
  auto x = random_values(shape.m * shape.k, 1), w = random_values(shape.n * shape.k, 2),
       b = random_values(shape.n, 3), r = random_values(shape.m * shape.n, 4);
  auto input = make_buffer(x), weight = make_buffer(ops::pack_gemm_weight(w, shape.n, shape.k)),
       bias = make_buffer(ops::pack_vec4_padded(b, shape.n)), residual = make_buffer(r),
       output = make_buffer(shape.m * shape.n);
  run({ops::gemm(device(), shape, ops::Activation::Gelu, {input, weight, bias, output, residual})});
  auto y = read(output, shape.m * shape.n);
  std::vector<float> expected(y.size());
  for (uint32_t m = 0; m < shape.m; ++m)
    for (uint32_t n = 0; n < shape.n; ++n) {
      double sum = b[n];
      for (uint32_t k = 0; k < shape.k; ++k) sum += double(x[m * shape.k + k]) * w[n * shape.k + k];
      expected[m * shape.n + n] = float(0.5 * sum * (1 + std::erf(sum / std::sqrt(2.0))) + r[m * shape.n + n]);
    }
  // fp32 sums of 40 products of O(1) values: rounding error ~ sqrt(40) * 6e-8 * |terms|; 1e-5 leaves margin.
  EXPECT_LE(testing::worst_tolerance_ratio(y, expected, 1e-5, 1e-5), 1.0);
}

TEST_F(GemmTest, WithoutActivationOrResidualIsBiasPlusProduct) {
  auto r = run_case({.shape = {.m = 37, .n = 97, .k = 40}});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, ReluEpilogueZeroesNegativeOutputs) {
  auto r = run_case({.shape = {.m = 13, .n = 40, .k = 97}, .activation = ops::Activation::Relu});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
  // The data must exercise the clamp: ReLU outputs are never negative, and a good share are exactly 0
  // (max(v, 0) of a negative fp32 value), which with symmetric random data is about half.
  size_t zeros = 0;
  for (size_t i = 0; i < r.actual.size(); ++i) {
    EXPECT_GE(r.actual[i], 0.0f) << "index " << i;
    zeros += r.actual[i] == 0.0f;
  }
  EXPECT_GT(zeros, r.actual.size() / 4);
}

TEST_F(GemmTest, ReluWithResidualAddsResidualAfterTheClamp) {
  auto r = run_case({.shape = {.m = 13, .n = 40, .k = 97}, .activation = ops::Activation::Relu, .residual = true});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, SingleRowM1) {
  auto r = run_case({.shape = {.m = 1, .n = 97, .k = 40}, .activation = ops::Activation::Gelu});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, SingleOutputFeatureN1) {
  auto r = run_case({.shape = {.m = 37, .n = 1, .k = 40}, .residual = true});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, SingleInputFeatureK1) {
  auto r = run_case({.shape = {.m = 37, .n = 97, .k = 1}});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, ThreeInputFeaturesUseTheScalarTailLoop) {
  // K = 3 is not a multiple of 4: the vec4 main loop is skipped and every k-step goes through the tail.
  auto r = run_case({.shape = {.m = 37, .n = 40, .k = 3}, .activation = ops::Activation::Gelu});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, OddKWithFewRowsAndColumns) {
  // K = 97: rows start at offsets that are not multiples of 4 floats.
  auto r = run_case({.shape = {.m = 5, .n = 3, .k = 97}, .residual = true});
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, LargeMSpansManyWorkgroups) {
  // 6401 rows x 200 columns = 534 row tiles (of 12) x 13 column groups (of 16) = 6942 invocations
  // = 109 workgroups of 64; M and N are not multiples of the tile.
  auto r = run_case({.shape = {.m = 6401, .n = 200, .k = 97}, .activation = ops::Activation::Gelu, .residual = true});
  EXPECT_GT(r.dispatch.groups[0] * r.dispatch.groups[1], 100u);
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

TEST_F(GemmTest, StorageAndTexelOperandPathsBothMatchReference) {
  const ops::GemmShape shape{.m = 37, .n = 97, .k = 40};
  for (auto operands : {ops::GemmOperands::Storage, ops::GemmOperands::Texel}) {
    if (operands == ops::GemmOperands::Texel && !ops::gemm_texel_supported(device(), shape)) continue;
    SCOPED_TRACE(operands == ops::GemmOperands::Texel ? "texel operands" : "storage operands");
    auto r = run_case({.shape = shape, .activation = ops::Activation::Gelu, .residual = true, .operands = operands});
    EXPECT_EQ(r.dispatch.shader, operands == ops::GemmOperands::Texel ? "gemm_texel" : "gemm");
    EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
  }
}

TEST_F(GemmTest, TexelPathRejectsKNotMultipleOfFour) {
  auto input = make_buffer(37 * 3), weight = make_buffer(3 * 40), bias = make_buffer(40), output = make_buffer(37 * 40);
  EXPECT_THROW(ops::gemm(device(), {.m = 37, .n = 40, .k = 3}, ops::Activation::None, {input, weight, bias, output},
                         ops::GemmOperands::Texel),
               Error);
  EXPECT_FALSE(ops::gemm_texel_supported(device(), {.m = 37, .n = 40, .k = 3}));
}

TEST_F(GemmTest, DispatchSpillsIntoYWhenXWorkgroupLimitIsSmall) {
  // A device that allows only 7 workgroups along x: 3137 x 400 = 262 row tiles x 25 column groups =
  // 6550 invocations = 103 workgroups must become a 7 x 15 grid, and the shader's
  // linear_invocation_id() must still give every tile exactly one invocation.
  DeviceInfo small = device();
  small.max_workgroup_count = {7, device().max_workgroup_count[1], 1};
  for (auto operands : {ops::GemmOperands::Storage, ops::GemmOperands::Auto}) {
    SCOPED_TRACE(operands == ops::GemmOperands::Auto ? "auto operands" : "storage operands");
    auto r = run_case({.shape = {.m = 3137, .n = 400, .k = 40}, .residual = true, .operands = operands}, small);
    EXPECT_EQ(r.dispatch.groups[0], 7u);
    EXPECT_EQ(r.dispatch.groups[1], 15u);
    EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
  }
}

// On a device whose limits the tiled family exceeds, it is refused before any pipeline is created,
// naming the limit (the plan then takes the register family: exec::choose_kernel_family). Runs on
// every device: the limits are lowered in a copy of this device's properties.
TEST_F(GemmTest, TiledFamilyIsRefusedWhereItsWorkgroupOrSharedMemoryDoesNotFit) {
  auto x = make_buffer(4 * 8), w = make_buffer(8 * 8), b = make_buffer(16), y = make_buffer(4 * 8);
  const ops::GemmShape shape{.m = 4, .n = 8, .k = 8};
  DeviceInfo small_workgroups = device();
  small_workgroups.max_workgroup_invocations = 128;
  DeviceInfo small_shared = device();
  small_shared.max_compute_shared_memory = 8192;
  small_shared.max_workgroup_invocations = small_shared.max_workgroup_size[0] = 256;
  for (const auto& [limited, words] : {std::pair{small_workgroups, "workgroups of 256 invocations and the device allows 128"},
                                       std::pair{small_shared, "8448 bytes of shared memory and the device has 8192"}}) {
    EXPECT_NE(ops::gemm_tiled_unsupported_reason(limited).find(words), std::string::npos)
        << ops::gemm_tiled_unsupported_reason(limited);
    try {
      ops::gemm(limited, shape, ops::Activation::None, {x, w, b, y}, ops::GemmOperands::Tiled);
      ADD_FAILURE() << "the tiled GEMM was built for a device that cannot run it";
    } catch (const DeviceError& error) {
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
    EXPECT_NO_THROW(ops::gemm(limited, shape, ops::Activation::None, {x, w, b, y}, ops::GemmOperands::Storage));
  }
}

// The GPU family runs on every device that allows its 256-invocation workgroups (lavapipe included),
// so it is tested here whatever the plan picks.
TEST_F(GemmTest, SharedMemoryTiledFamilyMatchesReferenceOnOddShapes) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const std::vector<Case> cases = {
      {.shape = {.m = 37, .n = 97, .k = 40}, .activation = ops::Activation::Gelu, .residual = true},
      {.shape = {.m = 1, .n = 1000, .k = 77}},                    // one row, N not a multiple of 64
      {.shape = {.m = 130, .n = 3, .k = 3}, .activation = ops::Activation::Relu},  // K below one step
      {.shape = {.m = 65, .n = 65, .k = 17}, .residual = true},   // one past every tile edge
      {.shape = {.m = 2 * 196, .n = 96, .k = 384}, .activation = ops::Activation::Gelu},
  };
  uint32_t seed = 50;
  for (Case c : cases) {
    c.operands = ops::GemmOperands::Tiled;
    c.seed = seed += 4;
    SCOPED_TRACE(std::to_string(c.shape.m) + "x" + std::to_string(c.shape.n) + "x" + std::to_string(c.shape.k));
    auto r = run_case(c);
    EXPECT_EQ(r.dispatch.shader, "gemm_tiled");
    EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
  }
}

TEST_F(GemmTest, SharedMemoryTiledFamilySpillsIntoY) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  // 3137 x 130 = 50 x 3 tiles = 150 workgroups; with 7 along x they form a 7 x 22 grid whose spare
  // workgroups must do nothing.
  DeviceInfo small = device();
  small.max_workgroup_count = {7, device().max_workgroup_count[1], 1};
  auto r = run_case({.shape = {.m = 3137, .n = 130, .k = 20}, .residual = true, .operands = ops::GemmOperands::Tiled},
                    small);
  EXPECT_EQ(r.dispatch.groups[0], 7u);
  EXPECT_EQ(r.dispatch.groups[1], 22u);
  EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
}

// fp16 weights on every path: the storage and tiled kernels' 16-bit-storage variants and the texel
// kernel's RGBA16F view. Against the reference on the half-rounded weights, with the fp32 bound.
TEST_F(GemmTest, HalfWeightsOnEveryPathMatchReferenceOnRoundedWeights) {
  const std::vector<Case> cases = {
      {.shape = {.m = 37, .n = 97, .k = 40}, .activation = ops::Activation::Gelu, .residual = true},
      {.shape = {.m = 5, .n = 3, .k = 97}, .residual = true},  // K with a scalar tail (not on the texel path)
      {.shape = {.m = 1, .n = 1000, .k = 12}},
      {.shape = {.m = 2 * 49, .n = 65, .k = 36}, .activation = ops::Activation::Relu},  // two images of 7x7
  };
  struct Path {
    ops::GemmOperands operands;
    const char* shader;
    bool texel;
  };
  uint32_t seed = 90;
  for (const Path& path : {Path{ops::GemmOperands::Storage, "gemm_half_weights", false},
                           Path{ops::GemmOperands::Texel, "gemm_texel", true},
                           Path{ops::GemmOperands::Tiled, "gemm_tiled_half_weights", false}}) {
    const std::string unsupported = path.operands == ops::GemmOperands::Tiled ? tiled_family_unsupported() : "";
    if (!unsupported.empty() || !ops::half_weights_supported(device(), path.texel)) {
      std::printf("[ NOT RUN  ] %s: %s\n", path.shader,
                  unsupported.empty() ? "the device cannot read fp16 weights on this path" : unsupported.c_str());
      continue;
    }
    for (Case c : cases) {
      if (path.texel && !ops::gemm_texel_supported(device(), c.shape)) continue;
      c.operands = path.operands;
      c.half_weights = true;
      c.seed = seed += 4;
      SCOPED_TRACE(std::string(path.shader) + " " + std::to_string(c.shape.m) + "x" + std::to_string(c.shape.n) + "x" +
                   std::to_string(c.shape.k));
      auto r = run_case(c);
      EXPECT_EQ(r.dispatch.shader, path.shader);
      EXPECT_EQ(r.dispatch.half_texel, path.texel ? 0b10u : 0u);
      EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
    }
  }
}

// LayerNorm folded into the tiled GEMM (gemm_tiled.comp NORMALIZE_ROWS), with row means far from
// zero (offset 20 on values of spread 0.6): statistics without the x - x[0] shift lose about 10 bits
// to cancellation there and miss the bound by orders of magnitude (checked by removing the shift).
TEST_F(GemmTest, NormalizedRowsMatchLayerNormThenProduct) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  const std::vector<ops::GemmShape> shapes = {{.m = 37, .n = 97, .k = 40}, {.m = 1, .n = 1000, .k = 96},
                                              {.m = 65, .n = 65, .k = 43}, {.m = 200, .n = 36, .k = 768}};
  uint32_t seed = 90;
  for (const auto& shape : shapes)
    for (float offset : {0.0f, 20.0f, -9.0f}) {
      SCOPED_TRACE(std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" + std::to_string(shape.k) + " offset " +
                   std::to_string(offset));
      auto r = run_case({.shape = shape, .activation = ops::Activation::Gelu, .residual = shape.m == 37,
                         .operands = ops::GemmOperands::Tiled, .seed = seed += 4, .normalize_rows = 1e-5f,
                         .input_offset = offset});
      EXPECT_EQ(r.dispatch.shader, "gemm_tiled");
      EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
    }
}

// The register family's LayerNorm from given row statistics (ConvNeXt's fc1 after the depthwise
// kernel that computed them), on both operand paths, with and without a mean offset.
TEST_F(GemmTest, RowStatisticsApplyLayerNormInTheEpilogue) {
  std::vector<ops::GemmOperands> paths = {ops::GemmOperands::Storage};
  if (device().texel_buffer_rgba32f) paths.push_back(ops::GemmOperands::Texel);
  uint32_t seed = 130;
  for (auto operands : paths)
    for (const ops::GemmShape& shape : {ops::GemmShape{.m = 37, .n = 97, .k = 40}, ops::GemmShape{.m = 200, .n = 36, .k = 768}})
      for (float offset : {0.0f, 5.0f}) {
        SCOPED_TRACE(std::string(operands == ops::GemmOperands::Texel ? "texel " : "storage ") + std::to_string(shape.k) +
                     " offset " + std::to_string(offset));
        auto r = run_case({.shape = shape, .activation = ops::Activation::Gelu, .residual = shape.m == 37,
                           .operands = operands, .seed = seed += 4, .row_statistics = true, .input_offset = offset});
        EXPECT_TRUE(testing::within_bounds(r.actual, r.expected));
      }
  auto x = make_buffer(4 * 8), w = make_buffer(8 * 8), b = make_buffer(16), y = make_buffer(4 * 8), st = make_buffer(8);
  ops::GemmBuffers buffers{x, w, b, y, std::nullopt, st};
  EXPECT_THROW(ops::gemm(device(), {.m = 4, .n = 8, .k = 8}, ops::Activation::None, buffers, ops::GemmOperands::Tiled),
               Error);
}

TEST_F(GemmTest, NormalizedRowsOfAConstantRowGiveTheBias) {
  if (const std::string reason = tiled_family_unsupported(); !reason.empty()) GTEST_SKIP() << reason;
  // A constant row has variance 0: rstd = 1/sqrt(eps) times an exactly zero centred product.
  const ops::GemmShape shape{.m = 3, .n = 8, .k = 16};
  std::vector<float> x(shape.m * shape.k, 2.5f), w = random_values(shape.n * shape.k, 3), b = random_values(shape.n, 4);
  auto input = make_buffer(x), weight = make_buffer(ops::pack_gemm_weight(w, shape.n, shape.k)),
       bias = make_buffer(ops::pack_bias_and_column_sums(b, w, shape.n, shape.k)), output = make_buffer(shape.m * shape.n);
  run({ops::gemm(device(), shape, ops::Activation::None, {input, weight, bias, output}, ops::GemmOperands::Tiled, false,
                 1e-5f)});
  const auto y = read(output, shape.m * shape.n);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], b[i % shape.n], 1e-6) << i;
}

TEST_F(GemmTest, NormalizedRowsAreRefusedByTheRegisterFamily) {
  auto input = make_buffer(4 * 8), weight = make_buffer(8 * 8), bias = make_buffer(16), output = make_buffer(4 * 8);
  EXPECT_THROW(ops::gemm(device(), {.m = 4, .n = 8, .k = 8}, ops::Activation::None, {input, weight, bias, output},
                         ops::GemmOperands::Auto, false, 1e-5f),
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
