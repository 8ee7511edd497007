#include "ops/gemm.h"

#include <algorithm>

#include "gemm_abi.h"
#include "gemm_tiled_abi.h"
#include "ops/half_weights.h"
#include "vkvision/error.h"

namespace vkvision::ops {
namespace {
constexpr uint32_t kLocalSize = GEMM_LOCAL_SIZE_X;
constexpr uint32_t kRows = GEMM_ROWS, kQuads = GEMM_QUADS;  // each invocation's tile of 12 x 16 outputs
uint32_t quads(uint32_t n) { return (n + 3) / 4; }
}  // namespace

std::vector<float> pack_gemm_weight(std::span<const float> weight, uint32_t n, uint32_t k) {
  const uint32_t padded = quads(n) * 4;
  std::vector<float> packed(static_cast<size_t>(k) * padded, 0.0f);
  for (uint32_t row = 0; row < n; ++row)
    for (uint32_t col = 0; col < k; ++col)
      packed[static_cast<size_t>(col) * padded + row] = weight[static_cast<size_t>(row) * k + col];
  return packed;
}

std::vector<float> pack_vec4_padded(std::span<const float> values, uint32_t n) {
  std::vector<float> packed(quads(n) * 4, 0.0f);
  for (uint32_t i = 0; i < n && i < values.size(); ++i) packed[i] = values[i];
  return packed;
}

std::vector<float> pack_bias_and_column_sums(std::span<const float> bias, std::span<const float> weight,
                                             uint32_t n, uint32_t k) {
  std::vector<float> packed = pack_vec4_padded(bias, n);
  const size_t sums_at = packed.size();
  packed.resize(2 * sums_at, 0.0f);
  for (uint32_t row = 0; row < n; ++row) {
    double sum = 0;
    for (uint32_t i = 0; i < k; ++i) sum += weight[size_t(row) * k + i];
    packed[sums_at + row] = static_cast<float>(sum);
  }
  return packed;
}

bool gemm_texel_supported(const DeviceInfo& device, const GemmShape& shape) {
  const uint64_t input_texels = uint64_t(shape.m) * shape.k / 4,
                 weight_texels = uint64_t(shape.k) * quads(shape.n);
  return device.texel_buffer_rgba32f && shape.k % 4 == 0 &&
         input_texels <= device.max_texel_buffer_elements &&
         weight_texels <= device.max_texel_buffer_elements;
}

bool gemm_uses_texel_path(const DeviceInfo& device, const GemmShape& shape, GemmOperands operands) {
  return operands == GemmOperands::Texel ||
         (operands == GemmOperands::Auto && gemm_texel_supported(device, shape));
}

std::optional<GemmOperands> preferred_gemm_operands(const DeviceInfo& device) {
  const bool gpu = device.type.find("GPU") != std::string::npos;
  if (device.type == "CPU" && device.subgroup_size <= 8) return GemmOperands::Auto;
  if (gpu && device.subgroup_size >= 32) return GemmOperands::Tiled;
  return std::nullopt;
}

namespace {
constexpr uint32_t kTiledWorkgroup = GEMM_TILED_LOCAL_SIZE_X, kTiledTile = GEMM_TILED_TILE,
                   kTiledStep = GEMM_TILED_STEP;
// As gemm_tiled.comp declares its shared arrays a_tile, b_tile and row_shift.
constexpr uint32_t kTiledSharedBytes =
    2 * kTiledStep * kTiledTile * sizeof(float) + kTiledTile * sizeof(float);
}  // namespace

std::string gemm_tiled_unsupported_reason(const DeviceInfo& device) {
  if (device.max_workgroup_invocations < kTiledWorkgroup || device.max_workgroup_size[0] < kTiledWorkgroup)
    return "the tiled GEMM needs workgroups of " + std::to_string(kTiledWorkgroup) +
           " invocations and the device allows " +
           std::to_string(std::min(device.max_workgroup_invocations, device.max_workgroup_size[0]));
  if (device.max_compute_shared_memory < kTiledSharedBytes)
    return "the tiled GEMM needs " + std::to_string(kTiledSharedBytes) +
           " bytes of shared memory and the device has " + std::to_string(device.max_compute_shared_memory);
  return {};
}

namespace {
vk::Dispatch gemm_tiled(const DeviceInfo& device, const GemmShape& shape, Activation activation,
                        const GemmBuffers& buffers, bool half_weights, std::optional<float> normalize_rows) {
  constexpr uint32_t kTile = kTiledTile, kWorkgroup = kTiledWorkgroup;
  const uint32_t tiles_n = (shape.n + kTile - 1) / kTile, tiles = ((shape.m + kTile - 1) / kTile) * tiles_n;
  const abi::GemmTiledPush push{shape.m,
                                shape.n,
                                shape.k,
                                quads(shape.n),
                                tiles_n,
                                tiles,
                                normalize_rows.value_or(0.0f),
                                std::max(shape.rows_per_image, 1u)};
  vk::Dispatch dispatch;
  dispatch.shader = vk::ShaderId::gemm_tiled;
  dispatch.specialization = {static_cast<int32_t>(activation), buffers.residual ? 1 : 0,
                             normalize_rows ? 1 : 0, buffers.input_scale ? 1 : 0, buffers.gate ? 1 : 0};
  dispatch.buffers = {buffers.input,
                      buffers.weight,
                      buffers.bias,
                      buffers.output,
                      buffers.residual.value_or(buffers.input),
                      buffers.input_scale.value_or(buffers.bias),
                      buffers.gate.value_or(buffers.bias)};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  dispatch.groups = vk::groups_for(uint64_t(tiles) * kWorkgroup, kWorkgroup, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}
}  // namespace

vk::Dispatch gemm(const DeviceInfo& device, const GemmShape& shape, Activation activation,
                  const GemmBuffers& buffers, GemmOperands operands, bool half_weights,
                  std::optional<float> normalize_rows) {
  if (buffers.input_scale && (normalize_rows || buffers.row_statistics || shape.rows_per_image == 0 ||
                              shape.m % shape.rows_per_image != 0))
    throw Error("gemm: an input scale needs whole images of rows and no row normalisation");
  if (operands == GemmOperands::Tiled) {
    if (const std::string reason = gemm_tiled_unsupported_reason(device); !reason.empty())
      throw DeviceError("gemm: " + reason);
    if (buffers.row_statistics) throw Error("gemm: precomputed row statistics need the register family");
    return gemm_tiled(device, shape, activation, buffers, half_weights, normalize_rows);
  }
  // The register family keeps LayerNorm a separate pass: on lavapipe, where it runs, the statistics'
  // per-element arithmetic costs more in the GEMM than the pass does (docs/PERFORMANCE.md).
  if (normalize_rows) throw Error("gemm: normalised input rows need the tiled family");
  const bool texel = gemm_uses_texel_path(device, shape, operands);
  if (texel && !gemm_texel_supported(device, shape))
    throw Error("gemm: the texel-buffer path needs K % 4 == 0 and RGBA32F texel buffers (K = " +
                std::to_string(shape.k) + ")");
  // Without an input scale the rows are one "image", tiled as before.
  const uint32_t rows_per_image = buffers.input_scale ? shape.rows_per_image : shape.m;
  const uint32_t images = rows_per_image == 0 ? 0 : shape.m / rows_per_image;
  const uint32_t tiles_per_image = (rows_per_image + kRows - 1) / kRows;
  const abi::GemmPush push{shape.m, shape.n, shape.k, quads(shape.n), rows_per_image, tiles_per_image};
  vk::Dispatch dispatch;
  dispatch.shader = texel ? vk::ShaderId::gemm_texel : vk::ShaderId::gemm;
  dispatch.texel = texel ? 0b11u : 0u;
  dispatch.specialization = {static_cast<int32_t>(activation), buffers.residual ? 1 : 0,
                             buffers.row_statistics ? 1 : 0, buffers.input_scale ? 1 : 0,
                             buffers.gate ? 1 : 0};
  // Without a residual or statistics the binding still needs a valid buffer; the shader never reads it.
  dispatch.buffers = {buffers.input,
                      buffers.weight,
                      buffers.bias,
                      buffers.output,
                      buffers.residual.value_or(buffers.input),
                      buffers.row_statistics.value_or(buffers.bias),
                      buffers.input_scale.value_or(buffers.bias),
                      buffers.gate.value_or(buffers.bias)};
  dispatch.written = 1u << 3;
  dispatch.set_push(push);
  const uint64_t row_tiles = uint64_t(images) * tiles_per_image,
                 column_groups = (push.N4 + kQuads - 1) / kQuads;
  dispatch.groups = vk::groups_for(row_tiles * column_groups, kLocalSize, device);
  if (half_weights) use_half_weights(dispatch, 1, device);
  return dispatch;
}

}  // namespace vkvision::ops
