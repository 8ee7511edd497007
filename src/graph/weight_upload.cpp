#include "graph/weight_upload.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ops/half_weights.h"
#include "vk/command.h"
#include "vkvision/error.h"

namespace vkvision::graph {
namespace {

// The layer with every parameter's values replaced by zeros of the same shape: packing it gives the
// packed sizes without reading (and so without paging in) the real values. calloc's large blocks are
// fresh zero pages, which reading does not make resident.
Layer zeros_like(const Layer& layer, const std::shared_ptr<const float>& zeros) {
  Layer copy = layer;
  for (auto& [role, tensor] : copy.params) tensor.data = zeros;
  return copy;
}

std::shared_ptr<const float> zero_values(const LayerList& list) {
  int64_t largest = 1;
  for (const Layer& layer : list.layers)
    for (const auto& [role, tensor] : layer.params) largest = std::max(largest, tensor.numel());
  auto* values = static_cast<float*>(std::calloc(size_t(largest), sizeof(float)));
  if (!values) throw DeviceError("out of host memory planning the weights' layout");
  return std::shared_ptr<const float>(values, [](const float* p) { std::free(const_cast<float*>(p)); });
}

}  // namespace

DeviceWeights upload_weights(const std::shared_ptr<vk::Context>& context, LayerList& list,
                             const std::vector<bool>& half_weights, const LayerPacker& pack, uint64_t max_binding_bytes) {
  const VkDeviceSize alignment = vk::binding_alignment(context->info());
  auto stored_bytes = [&](size_t layer, size_t parameter, size_t values) {
    return uint64_t(values) * (parameter == 0 && half_weights[layer] ? sizeof(uint16_t) : sizeof(float));
  };

  // Layout: offsets of every packed parameter, and the largest layer (the packing buffer's size).
  DeviceWeights weights;
  weights.ranges.resize(list.layers.size());
  uint64_t total = 0, largest_layer = 0;
  {
    const std::shared_ptr<const float> zeros = zero_values(list);
    for (size_t i = 0; i < list.layers.size(); ++i) {
      const Layer& layer = list.layers[i];
      uint64_t layer_bytes = 0;
      const auto packed = pack(zeros_like(layer, zeros), i);
      for (size_t k = 0; k < packed.size(); ++k) {
        const uint64_t bytes = stored_bytes(i, k, packed[k].size());
        if (bytes > max_binding_bytes)
          throw DeviceError(layer.name + " parameters need " + std::to_string(bytes) +
                            " bytes, more than the device's maxStorageBufferRange (" + std::to_string(max_binding_bytes) +
                            ")");
        total = vk::align_up(total, alignment);
        weights.ranges[i].emplace_back(total, bytes);
        total += bytes;
        layer_bytes = vk::align_up(layer_bytes, alignment) + bytes;
      }
      largest_layer = std::max(largest_layer, layer_bytes);
    }
  }
  weights.arena = std::make_unique<vk::Arena>(context, std::max<uint64_t>(total, alignment), vk::MemoryUse::DeviceLocal,
                                              "weights");

  // Where the arena cannot be mapped, each layer goes through one staging buffer and one copy.
  std::unique_ptr<vk::Arena> staging;
  if (!weights.arena->host_visible() && largest_layer > 0)
    staging = std::make_unique<vk::Arena>(context, largest_layer, vk::MemoryUse::Upload, "weight staging");
  for (size_t i = 0; i < list.layers.size(); ++i) {
    Layer& layer = list.layers[i];
    const auto packed = pack(layer, i);
    if (packed.size() != weights.ranges[i].size()) throw Error("internal: " + layer.name + " packed differently twice");
    uint64_t staged = 0;
    std::vector<std::pair<vk::BufferSlice, vk::BufferSlice>> copies;
    for (size_t k = 0; k < packed.size(); ++k) {
      const auto [offset, bytes] = weights.ranges[i][k];
      if (stored_bytes(i, k, packed[k].size()) != bytes) throw Error("internal: " + layer.name + " packed differently twice");
      if (bytes == 0) continue;
      const vk::BufferSlice destination = weights.arena->slice(offset, bytes);
      vk::BufferSlice target = destination;
      if (staging) {
        staged = vk::align_up(staged, alignment);
        target = staging->slice(staged, bytes);
        staged += bytes;
        copies.emplace_back(target, destination);
      }
      if (k == 0 && half_weights[i]) {
        const std::vector<uint16_t> halves = ops::to_half(packed[k]);
        std::memcpy(target.mapped, halves.data(), bytes);
      } else {
        std::memcpy(target.mapped, packed[k].data(), bytes);
      }
    }
    if (!copies.empty()) {
      staging->flush();
      vk::CommandBuffer commands(*context);
      commands.begin();
      for (const auto& [source, destination] : copies) commands.copy(source, destination);
      commands.end();
      context->submit_and_wait(commands.handle());
    }
    for (auto& [role, tensor] : layer.params) {
      tensor.release_file_pages();
      tensor.data.reset();
    }
  }
  weights.arena->flush();
  return weights;
}

}  // namespace vkvision::graph
