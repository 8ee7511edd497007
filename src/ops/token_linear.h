// Token mixing on NHWC maps (shaders/token_linear.comp): per image, out[T_out x C] = W[T_out x T_in] x
// X[T_in x C] over the H*W tokens, with a fused epilogue: a per-channel input affine folded through
// the product, a per-token bias, an activation, a per-channel output scale, a gate and a residual.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "ops/activation.h"
#include "vk/program.h"

namespace vkvision::ops {

struct TokenLinearShape {
  uint32_t batch = 1;
  uint32_t t_in = 0;   // input tokens (H * W of the input)
  uint32_t t_out = 0;  // output tokens
  uint32_t c = 0;      // channels
};

// Which optional terms the epilogue applies (see TokenLinearBuffers for the values' layout).
struct TokenLinearEpilogue {
  Activation activation = Activation::None;
  bool bias = false;          // + bias[t']
  bool input_scale = false;   // acc * alpha[c]
  bool input_shift = false;   // + beta[c] * rowsum(W)[t']
  bool output_scale = false;  // * out_scale[c], after the activation
};

// PyTorch's weight [T_out, T_in] -> [T_out, round_up(T_in, 4)], each row zero-padded.
std::vector<float> pack_token_linear_weight(std::span<const float> weight, uint32_t t_out, uint32_t t_in);
// bias [T_out] (empty: zeros) | the weight's row sums [T_out], summed in double.
std::vector<float> pack_token_linear_token_parameters(std::span<const float> bias,
                                                      std::span<const float> weight, uint32_t t_out,
                                                      uint32_t t_in);
// alpha | beta | out_scale, each [round_up(C, 4)] (empty: 1, 0, 1; padding 0).
std::vector<float> pack_token_linear_channel_parameters(std::span<const float> input_scale,
                                                        std::span<const float> input_shift,
                                                        std::span<const float> output_scale, uint32_t c);

struct TokenLinearBuffers {
  vk::BufferSlice input;                    // [B, T_in, C]
  vk::BufferSlice weight;                   // pack_token_linear_weight
  vk::BufferSlice token_parameters;         // pack_token_linear_token_parameters
  vk::BufferSlice channel_parameters;       // pack_token_linear_channel_parameters
  vk::BufferSlice output;                   // [B, T_out, C]
  std::optional<vk::BufferSlice> gate;      // [B, T_out, C], multiplied after the output scale
  std::optional<vk::BufferSlice> residual;  // [B, T_out, C], added last
};

enum class TokenLinearOperands {
  Auto,     // texel buffers where the device has them and the shape allows, else storage
  Storage,  // any C
  Texel,    // C % 4 == 0, operands within maxTexelBufferElements
};

bool token_linear_texel_supported(const DeviceInfo& device, const TokenLinearShape& shape);

// Whether token_linear() with these operands reads x and the weight through texel buffers.
bool token_linear_uses_texel_path(const DeviceInfo& device, const TokenLinearShape& shape,
                                  TokenLinearOperands operands);

// half_weights: buffers.weight holds the packed weight as IEEE half (to_half in ops/half_weights.h);
// the device must have half_weights_supported() for the chosen path. The row sums stay fp32.
vk::Dispatch token_linear(const DeviceInfo& device, const TokenLinearShape& shape,
                          const TokenLinearEpilogue& epilogue, const TokenLinearBuffers& buffers,
                          TokenLinearOperands operands = TokenLinearOperands::Auto,
                          bool half_weights = false);

}  // namespace vkvision::ops
