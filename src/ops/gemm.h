// GEMM with fused epilogue (bias, activation, residual): linear layers and 1x1 convolutions on
// NHWC tensors. Kernel: shaders/gemm.comp.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "vk/program.h"

namespace vkvision::ops {

struct GemmShape {
  uint32_t m = 0;  // rows: tokens or pixels
  uint32_t n = 0;  // output features
  uint32_t k = 0;  // input features
  // With GemmBuffers::input_scale: the rows of one image (m / rows_per_image images); 0 otherwise.
  uint32_t rows_per_image = 0;
};

// PyTorch's Linear weight [N, K] (or a 1x1 conv's [N, K, 1, 1]) -> [K, round_up(N, 4)], zero-padded.
std::vector<float> pack_gemm_weight(std::span<const float> weight, uint32_t n, uint32_t k);
// Bias of N values (empty: zeros) -> round_up(N, 4) values.
std::vector<float> pack_vec4_padded(std::span<const float> values, uint32_t n);
// For a GEMM that normalises its input rows (GemmEpilogue::normalize_rows): the bias padded as above,
// followed by each output column's sum of the weight over K, padded the same way.
std::vector<float> pack_bias_and_column_sums(std::span<const float> bias, std::span<const float> weight,
                                             uint32_t n, uint32_t k);

struct GemmBuffers {
  vk::BufferSlice input;                    // [M, K]
  vk::BufferSlice weight;                   // packed
  vk::BufferSlice bias;                     // packed
  vk::BufferSlice output;                   // [M, N]
  std::optional<vk::BufferSlice> residual;  // [M, N], added after the activation
  // Register family: LayerNorm each input row by its (mean, 1/std) from here ([M] vec2, written by
  // depthwise_conv2d_layer_norm's statistics output), the norm's affine folded into weight and bias;
  // bias from pack_bias_and_column_sums.
  std::optional<vk::BufferSlice> row_statistics;
  // Scale each image's input columns first: X[m, k] * input_scale[m / rows_per_image, k] ([images, K];
  // ConvNeXt V2's GRN, ops/grn.h). Not with normalize_rows or row_statistics.
  std::optional<vk::BufferSlice> input_scale;
  // [M, N]: multiplies the output after the activation, before the residual (gMixer's x1 * silu(x2)).
  std::optional<vk::BufferSlice> gate;
};

enum class GemmOperands {
  Auto,     // texel buffers where the device has them and the shape allows, else storage buffers
  Storage,  // storage buffers: any K
  Texel,    // RGBA32F uniform texel buffers: K % 4 == 0 and operands within max_texel_buffer_elements
  Tiled,    // the GPU family (gemm_tiled.comp): 64x64 tiles staged through shared memory; any shape
};

// The GEMM family a device clearly runs best, from its queried properties: the register-blocked
// texel kernels on a CPU device with CPU-SIMD-narrow subgroups (8 lanes or fewer: lavapipe, where
// shared memory is emulated and loses, LAVAPIPE.md), the shared-memory tiled kernel on a GPU with
// 32 lanes or more. Anything between (16-lane GPUs, a GPU reporting 8 lanes, a CPU with wide
// subgroups) is unclear: nullopt, and the plan times both once (graph/kernel_trial.h).
std::optional<GemmOperands> preferred_gemm_operands(const DeviceInfo& device);

// What keeps the tiled family (gemm_tiled.comp) off this device, or empty when it can run: its
// 256-invocation workgroups against maxComputeWorkGroupInvocations and maxComputeWorkGroupSize[0],
// its shared tiles against maxComputeSharedMemorySize.
std::string gemm_tiled_unsupported_reason(const DeviceInfo& device);

// Whether the texel-buffer path can run this shape on this device.
bool gemm_texel_supported(const DeviceInfo& device, const GemmShape& shape);
// Whether gemm() with these operands reads the weight through a texel buffer (else a storage buffer).
bool gemm_uses_texel_path(const DeviceInfo& device, const GemmShape& shape, GemmOperands operands);

// normalize_rows (Tiled operands only): LayerNorm each row of the input with this epsilon before the
// product (the norm's affine folded into weight and bias; buffers.bias from pack_bias_and_column_sums).
// half_weights: buffers.weight holds the packed weight as IEEE half (to_half in ops/half_weights.h); the
// device must have half_weights_supported() for the chosen path.
vk::Dispatch gemm(const DeviceInfo& device, const GemmShape& shape, Activation activation,
                  const GemmBuffers& buffers, GemmOperands operands = GemmOperands::Auto,
                  bool half_weights = false, std::optional<float> normalize_rows = std::nullopt);

}  // namespace vkvision::ops
