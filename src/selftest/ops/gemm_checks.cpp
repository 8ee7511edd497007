// The GEMM (ops/gemm.h) through the conformance harness (ops/conformance.h): every case on every
// path its shape allows, the register family on storage and texel operands and the shared-memory
// tiled family, with fp32 weights, and the fp16 cases on the fp16 variant of each.
#include <cmath>
#include <string>

#include "ops/gemm.h"
#include "selftest/ops/op_check_lists.h"
#include "vkvision/error.h"

namespace vkvision::selftest {
namespace {

struct GemmParams {
  ops::GemmShape shape;
  ops::Activation activation = ops::Activation::None;
  bool residual = false;
  uint32_t seed = 10;
  std::optional<float> normalize_rows;  // LayerNorm each input row first, with this epsilon (tiled only)
  bool row_statistics = false;       // ... by given (mean, 1/std) per row instead (eps 1e-6; register only)
  float input_offset = 0;            // added to every input value (a row mean far from 0)
  uint32_t max_groups_x = 0;         // a device allowing only this many workgroups along x (0: as is)
  std::array<uint32_t, 2> groups{};  // the grid that must then result (0: not checked)
  uint32_t min_workgroups = 0;       // at least this many workgroups (0: not checked)
  bool relu_zeros = false;           // check that ReLU made a good share of the outputs exactly 0
  uint32_t scaled_images = 0;        // scale each of this many images' input columns (GRN; 0: none)
  bool gate = false;                 // multiply the output by a [M, N] gate after the activation
};

std::string describe(const GemmParams& p) {
  std::string text = "M " + std::to_string(p.shape.m) + ", N " + std::to_string(p.shape.n) + ", K " +
                     std::to_string(p.shape.k) + ", " + ops::activation_name(p.activation);
  if (p.residual) text += ", residual";
  if (p.gate) text += ", gate";
  if (p.scaled_images) text += ", input scale over " + std::to_string(p.scaled_images) + " images";
  if (p.normalize_rows || p.row_statistics) text += ", LayerNorm rows";
  return text;
}

// The paths a shape runs on: the register family on storage operands, on texel operands where
// K % 4 == 0 (the texel kernel's vec4 rows), and the tiled family; fp32 or fp16 weights.
std::vector<Path> gemm_paths(const ops::GemmShape& shape, bool half = false) {
  std::vector<Path> paths = {half ? kStorageHalf : kStorage};
  if (shape.k % 4 == 0) paths.push_back(half ? kTexelHalf : kTexel);
  paths.push_back(half ? kTiledHalf : kTiled);
  return paths;
}
std::vector<Path> register_paths(const ops::GemmShape& shape) {
  std::vector<Path> paths = {kStorage};
  if (shape.k % 4 == 0) paths.push_back(kTexel);
  return paths;
}

class GemmChecks : public CaseRunner {
 public:
  using CaseRunner::CaseRunner;

  static constexpr float kStatisticsEps = 1e-6f;
  // (mean, 1/sqrt(var + eps)) of each row, in double, rounded to fp32: what the depthwise+LayerNorm
  // kernel hands the GEMM.
  static std::vector<float> row_statistics(const std::vector<float>& x, uint32_t m, uint32_t k, float eps) {
    std::vector<float> statistics;
    for (uint32_t r = 0; r < m; ++r) {
      double mean = 0, variance = 0;
      for (uint32_t i = 0; i < k; ++i) mean += x[size_t(r) * k + i];
      mean /= k;
      for (uint32_t i = 0; i < k; ++i)
        variance += (x[size_t(r) * k + i] - mean) * (x[size_t(r) * k + i] - mean);
      statistics.push_back(float(mean));
      statistics.push_back(float(1.0 / std::sqrt(variance / k + eps)));
    }
    return statistics;
  }

  // Random O(1) data through the kernel of `path`, next to the bounded reference. With fp16 weights
  // the reference multiplies by the half-rounded weights, with the fp32-accumulation bound.
  Outcome run_case(const GemmParams& c, const Path& path, const DeviceInfo& device_info) {
    ops::GemmShape s = c.shape;
    if (c.scaled_images) s.rows_per_image = s.m / c.scaled_images;
    DeviceInfo info = device_info;
    if (c.max_groups_x) info.max_workgroup_count = {c.max_groups_x, info.max_workgroup_count[1], 1};
    const ops::GemmOperands operands = path.tiled     ? ops::GemmOperands::Tiled
                                       : path.texel() ? ops::GemmOperands::Texel
                                                      : ops::GemmOperands::Storage;
    Outcome outcome;
    if (path.texel() && !ops::gemm_texel_supported(info, s))
      return {.not_run = "the operands exceed maxTexelBufferElements"};
    auto x = random_values(size_t(s.m) * s.k, c.seed), w = random_values(size_t(s.n) * s.k, c.seed + 1),
         b = random_values(s.n, c.seed + 2), r = random_values(size_t(s.m) * s.n, c.seed + 3);
    for (float& value : x) value += c.input_offset;
    // Per-image column scales as GRN's 1 + gamma * N: positive, about 1.
    std::vector<float> scale = random_values(size_t(c.scaled_images) * s.k, c.seed + 4);
    for (float& value : scale) value = 1.0f + 0.5f * value;
    const bool normalized = c.normalize_rows || c.row_statistics;
    if (path.half_weights) w = rounded_to_half(w);
    const auto packed = ops::pack_gemm_weight(w, s.n, s.k);
    auto input = make_buffer(x), weight = path.half_weights ? make_half_buffer(packed) : make_buffer(packed),
         bias = make_buffer(normalized ? ops::pack_bias_and_column_sums(b, w, s.n, s.k)
                                       : ops::pack_vec4_padded(b, s.n)),
         output = make_buffer(size_t(s.m) * s.n);
    ops::GemmBuffers buffers{input, weight, bias, output, std::nullopt};
    if (c.residual) buffers.residual = make_buffer(r);
    const auto statistics = row_statistics(x, s.m, s.k, kStatisticsEps);
    if (c.row_statistics) buffers.row_statistics = make_buffer(statistics);
    if (c.scaled_images) buffers.input_scale = make_buffer(scale);
    const auto g = random_values(size_t(s.m) * s.n, c.seed + 5);
    if (c.gate) buffers.gate = make_buffer(g);
    const vk::Dispatch dispatch =
        ops::gemm(info, s, c.activation, buffers, operands, path.half_weights, c.normalize_rows);
    outcome.dispatches = {dispatch};
    outcome.flops = 2.0 * s.m * s.n * s.k;
    outcome.shader =
        path.tiled ? (path.half_weights ? vk::ShaderId::gemm_tiled_half_weights : vk::ShaderId::gemm_tiled)
        : path.texel() ? vk::ShaderId::gemm_texel
                       : (path.half_weights ? vk::ShaderId::gemm_half_weights : vk::ShaderId::gemm);
    require((dispatch.half_texel) == (path.half_weights && path.texel() ? 0b10u : 0u),
            "dispatch.half_texel == path.half_weights && path.texel() ? 0b10u : 0u");
    if (c.groups[0]) {
      require((dispatch.groups[0]) == (c.groups[0]), "dispatch.groups[0] == c.groups[0]");
      require((dispatch.groups[1]) == (c.groups[1]), "dispatch.groups[1] == c.groups[1]");
    }
    if (c.min_workgroups) {
      require((dispatch.groups[0] * dispatch.groups[1]) > (c.min_workgroups),
              "dispatch.groups[0] * dispatch.groups[1] > c.min_workgroups");
    }
    run({dispatch});
    outcome.actual = read(output, size_t(s.m) * s.n);
    outcome.expected.resize(outcome.actual.size());
    for (uint32_t m = 0; m < s.m; ++m) {
      const float* row = x.data() + size_t(m) * s.k;
      const float* row_scale = c.scaled_images ? scale.data() + size_t(m / s.rows_per_image) * s.k : nullptr;
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
          const double xk = normalized  ? (row[k] - mean) * rstd
                            : row_scale ? double(row[k]) * row_scale[k]
                                        : row[k];
          sum += xk * wk;
          product += xk * wk;
          // Normalised: the kernel sums (x - x[0]) w and subtracts shifted_mean * colsum(w), each a
          // sum of K products whose terms are at most |xhat| + |shifted_mean| rstd (times |w|).
          magnitude +=
              (std::abs(xk) + (c.normalize_rows ? 2 * std::abs(shifted_mean) * rstd : 0.0)) * std::abs(wk);
          // Given statistics: the kernel sums x w unshifted (terms up to |x| rstd after scaling) and
          // subtracts mean * colsum(w) (terms |mean| rstd |w|).
          if (c.row_statistics) magnitude += (std::abs(row[k]) + std::abs(mean)) * rstd * std::abs(wk);
        }
        // fp32 accumulation of K products onto the bias: gamma_{K+1} * sum of |terms| (two more
        // roundings for the shift and the correction where normalised). Normalised, rstd carries the
        // error of the one-pass variance E[a^2] - E[a]^2 of a = x - x[0]: gamma_K (1 + 3 E[a]^2 / var)
        // relative, halved by the square root, plus a few roundings; it scales the normalised product.
        // Scaled: one more rounding per term (the scale times the weight, or times x when staged).
        double bound = gamma_n(s.k + (c.scaled_images ? 4 : 3)) * magnitude;
        if (c.row_statistics) bound += 4 * kUnit * std::abs(product);  // mean, rstd rounded to fp32
        if (c.normalize_rows)
          bound += (0.5 * gamma_n(s.k) * (1 + 3 * shifted_mean * shifted_mean * rstd * rstd) + 4 * kUnit) *
                   std::abs(product);
        Bounded y = activate(sum, bound, c.activation);
        if (c.gate) {
          // The gate multiplies after the activation: its error scales by |g|, plus one rounding.
          const double factor = g[size_t(m) * s.n + n];
          y.value *= factor;
          y.bound = y.bound * std::abs(factor) + kUnit * std::abs(y.value);
        }
        if (c.residual) {
          // The residual is added after the activation: one more rounding of the sum.
          y.value += r[size_t(m) * s.n + n];
          y.bound += kUnit * std::abs(y.value);
        }
        outcome.expected[size_t(m) * s.n + n] = y;
      }
    }
    if (c.relu_zeros) {
      // The data must exercise the clamp: ReLU outputs are never negative, and a good share are exactly
      // 0 (max(v, 0) of a negative fp32 value), which with symmetric random data is about half.
      size_t zeros = 0;
      for (size_t i = 0; i < outcome.actual.size(); ++i) {
        require((outcome.actual[i]) >= (0.0f), "outcome.actual[i] >= 0.0f");
        zeros += outcome.actual[i] == 0.0f;
      }
      require((zeros) > (outcome.actual.size() / 4), "zeros > outcome.actual.size() / 4");
    }
    return outcome;
  }
};

using GemmCase = Case<GemmParams>;

// clang-format off
std::vector<GemmCase> gemm_cases() {
  using ops::Activation;
  std::vector<GemmCase> cases;
  auto add = [&](std::string name, GemmParams params) {
    cases.push_back({std::move(name), params, gemm_paths(params.shape)});
  };
  add("MatchesReferenceOnOddShapesWithGeluAndResidual",
      {.shape = {.m = 37, .n = 97, .k = 40}, .activation = Activation::Gelu, .residual = true, .seed = 1});
  add("WithoutActivationOrResidualIsBiasPlusProduct", {.shape = {.m = 37, .n = 97, .k = 40}});
  add("ReluEpilogueZeroesNegativeOutputs",
      {.shape = {.m = 13, .n = 40, .k = 97}, .activation = Activation::Relu, .relu_zeros = true});
  add("ReluWithResidualAddsResidualAfterTheClamp",
      {.shape = {.m = 13, .n = 40, .k = 97}, .activation = Activation::Relu, .residual = true});
  add("SingleRowM1", {.shape = {.m = 1, .n = 97, .k = 40}, .activation = Activation::Gelu});
  add("SingleOutputFeatureN1", {.shape = {.m = 37, .n = 1, .k = 40}, .residual = true});
  add("SingleInputFeatureK1", {.shape = {.m = 37, .n = 97, .k = 1}});
  // K = 3 is not a multiple of 4: the vec4 main loop is skipped and every k-step goes through the tail.
  add("ThreeInputFeaturesUseTheScalarTailLoop",
      {.shape = {.m = 37, .n = 40, .k = 3}, .activation = Activation::Gelu});
  // K = 97: rows start at offsets that are not multiples of 4 floats.
  add("OddKWithFewRowsAndColumns", {.shape = {.m = 5, .n = 3, .k = 97}, .residual = true});
  // 6401 rows x 200 columns = 534 row tiles (of 12) x 13 column groups (of 16) = 6942 invocations
  // = 109 workgroups of 64; M and N are not multiples of the tile. The register family's grid (the
  // tiled family's large grid: SharedMemoryTiledFamilySpillsIntoY; this shape on it takes 2.5 s of
  // lavapipe, a tenth of test_ops).
  const ops::GemmShape large{.m = 6401, .n = 200, .k = 97};
  cases.push_back({"LargeMSpansManyWorkgroups",
                   {.shape = large, .activation = Activation::Gelu, .residual = true, .min_workgroups = 100},
                   register_paths(large)});
  // Shapes at the tiled family's edges (64x64 tiles, K steps of 16), on every path.
  add("OneRowNNotAMultipleOf64", {.shape = {.m = 1, .n = 1000, .k = 77}, .seed = 58});
  add("KBelowOneStep", {.shape = {.m = 130, .n = 3, .k = 3}, .activation = Activation::Relu, .seed = 62});
  add("OnePastEveryTileEdge", {.shape = {.m = 65, .n = 65, .k = 17}, .residual = true, .seed = 66});
  // ConvNeXt V2's GRN as an input scale per image: rows per image not a multiple of the register
  // tile's 12 (49 = 7 x 7, 197, 1), K a multiple of 4 (texel) and not (the scalar tail loop).
  add("InputScalePerImageOfFortyNineRows",
      {.shape = {.m = 2 * 49, .n = 37, .k = 40}, .residual = true, .seed = 80, .scaled_images = 2});
  add("InputScaleWithOddKUsesTheTailLoop",
      {.shape = {.m = 3 * 197, .n = 22, .k = 38}, .activation = Activation::Gelu, .seed = 82,
       .scaled_images = 3});
  // gMixer's gated channel MLP: x1 * silu(x2), the gate after the activation, before the residual.
  add("GateAfterSiluBeforeResidual",
      {.shape = {.m = 49, .n = 26, .k = 22}, .activation = Activation::Silu, .residual = true, .seed = 88,
       .gate = true});
  add("GateWithInputScaleOddK",
      {.shape = {.m = 2 * 25, .n = 13, .k = 38}, .seed = 90, .scaled_images = 2, .gate = true});
  add("InputScaleOnOnePixelImages", {.shape = {.m = 5, .n = 30, .k = 68}, .seed = 84, .scaled_images = 5});
  add("InputScaleOnLargeImages",
      {.shape = {.m = 2 * 196, .n = 96, .k = 384}, .activation = Activation::Gelu, .residual = true,
       .seed = 86, .scaled_images = 2});
  // Mixer-B/16's token MLP (196 -> 384 tokens at 768 channels) as a plain GEMM of the same arithmetic:
  // what TokenLinearTest's MixerB16 cases are compared with in --perf.
  add("MixerTokenMlpShape",
      {.shape = {.m = 384, .n = 768, .k = 196}, .activation = Activation::Gelu, .seed = 74});
  add("TwoSwinImages",
      {.shape = {.m = 2 * 196, .n = 96, .k = 384}, .activation = Activation::Gelu, .seed = 70});

  // A device that allows only 7 workgroups along x: 3137 x 400 = 262 row tiles x 25 column groups =
  // 6550 invocations = 103 workgroups must become a 7 x 15 grid, and the shader's
  // linear_invocation_id() must still give every tile exactly one invocation.
  const ops::GemmShape spill{.m = 3137, .n = 400, .k = 40};
  cases.push_back({"DispatchSpillsIntoYWhenXWorkgroupLimitIsSmall",
                   {.shape = spill, .residual = true, .max_groups_x = 7, .groups = {7, 15}},
                   register_paths(spill)});
  // 3137 x 130 = 50 x 3 tiles = 150 workgroups; with 7 along x they form a 7 x 22 grid whose spare
  // workgroups must do nothing.
  cases.push_back({"SharedMemoryTiledFamilySpillsIntoY",
                   {.shape = {.m = 3137, .n = 130, .k = 20}, .residual = true, .max_groups_x = 7,
                    .groups = {7, 22}},
                   {kTiled}});

  // fp16 weights on every path: the storage and tiled kernels' 16-bit-storage variants and the texel
  // kernel's RGBA16F view. Against the reference on the half-rounded weights, with the fp32 bound.
  auto add_half = [&](std::string name, GemmParams params) {
    cases.push_back({std::move(name), params, gemm_paths(params.shape, true)});
  };
  add_half("HalfWeightsGeluResidual",
           {.shape = {.m = 37, .n = 97, .k = 40}, .activation = Activation::Gelu, .residual = true,
            .seed = 94});
  // K with a scalar tail (so not on the texel path).
  add_half("HalfWeightsScalarTail", {.shape = {.m = 5, .n = 3, .k = 97}, .residual = true, .seed = 98});
  add_half("HalfWeightsOneRow", {.shape = {.m = 1, .n = 1000, .k = 12}, .seed = 102});
  add_half("HalfWeightsTwoImagesOf7x7",
           {.shape = {.m = 2 * 49, .n = 65, .k = 36}, .activation = Activation::Relu, .seed = 106});

  // LayerNorm folded into the tiled GEMM (gemm_tiled.comp NORMALIZE_ROWS), with row means far from
  // zero (offset 20 on values of spread 0.6): statistics without the x - x[0] shift lose about 10 bits
  // to cancellation there and miss the bound by orders of magnitude (checked by removing the shift).
  auto shape_name = [](const ops::GemmShape& shape) {
    return std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" + std::to_string(shape.k);
  };
  uint32_t seed = 90;
  const std::vector<ops::GemmShape> normalized_shapes = {
      {.m = 37, .n = 97, .k = 40}, {.m = 1, .n = 1000, .k = 96}, {.m = 65, .n = 65, .k = 43},
      {.m = 200, .n = 36, .k = 768}};
  for (const ops::GemmShape& shape : normalized_shapes)
    for (const auto& [offset, offset_name] :
         {std::pair{0.0f, "0"}, std::pair{20.0f, "20"}, std::pair{-9.0f, "Minus9"}})
      cases.push_back({"NormalizedRows" + shape_name(shape) + "Offset" + offset_name,
                       {.shape = shape, .activation = Activation::Gelu, .residual = shape.m == 37,
                        .seed = seed += 4, .normalize_rows = 1e-5f, .input_offset = offset},
                       {kTiled}});

  // The register family's LayerNorm from given row statistics (ConvNeXt's fc1 after the depthwise
  // kernel that computed them), on both operand paths, with and without a mean offset.
  seed = 130;
  const std::vector<ops::GemmShape> statistics_shapes = {{.m = 37, .n = 97, .k = 40},
                                                         {.m = 200, .n = 36, .k = 768}};
  for (const ops::GemmShape& shape : statistics_shapes)
    for (const auto& [offset, offset_name] : {std::pair{0.0f, "0"}, std::pair{5.0f, "5"}})
      cases.push_back({"RowStatistics" + shape_name(shape) + "Offset" + offset_name,
                       {.shape = shape, .activation = Activation::Gelu, .residual = shape.m == 37,
                        .seed = seed += 4, .row_statistics = true, .input_offset = offset},
                       register_paths(shape)});
  return cases;
}

// clang-format on
void add_Gemm_cases(CheckList& list) { add_cases<GemmChecks, GemmParams>(list, "Gemm", gemm_cases()); }

}  // namespace

void add_gemm_checks(CheckList& list) { add_Gemm_cases(list); }

}  // namespace vkvision::selftest
