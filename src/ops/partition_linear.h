// RepMLP's partition FC on NHWC maps (shaders/partition_linear.comp) with its fused input
// BatchNorm, global-perceptron gate and residual.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "ops/partition.h"
#include "vk/program.h"

namespace vkvision::ops {

// fc3's weight [S*hw, hw] (PyTorch [S*hw, hw, 1, 1]) -> [S][j][round_up(hw, 4)] (transposed per shareset).
std::vector<float> pack_partition_weight(std::span<const float> weight, const PartitionShape& shape);
// bias [S*hw] (empty: zeros) and the weight's row sums, each padded per shareset to round_up(hw, 4):
// bias | rowsum. The row sums carry the folded input BatchNorm's shift through the FC.
std::vector<float> pack_partition_bias(std::span<const float> bias, std::span<const float> weight,
                                       const PartitionShape& shape);
// The input affine scale [C] | shift [C] (empty: 1 and 0).
std::vector<float> pack_partition_affine(std::span<const float> scale, std::span<const float> shift,
                                         uint32_t channels);

struct PartitionLinearBuffers {
  vk::BufferSlice input, weight, bias_rowsum, affine, output;
  std::optional<vk::BufferSlice> gate;      // [N, C]
  std::optional<vk::BufferSlice> residual;  // [N, H, W, C]
};

// half_weights: the weight buffer holds the packed weight as IEEE half (to_half in ops/half_weights.h),
// read through 16-bit storage.
vk::Dispatch partition_linear(const DeviceInfo& device, const PartitionShape& shape,
                              const PartitionLinearBuffers& buffers, bool half_weights = false);

}  // namespace vkvision::ops
