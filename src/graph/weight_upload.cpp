#include "graph/weight_upload.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
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

uint64_t stored_bytes(const std::vector<bool>& half_weights, size_t layer, size_t parameter, size_t values) {
  return uint64_t(values) * (parameter == 0 && half_weights[layer] ? sizeof(uint16_t) : sizeof(float));
}

void release_host_values(Layer& layer) {
  for (auto& [role, tensor] : layer.params) {
    tensor.release_file_pages();
    tensor.data.reset();
  }
}

// Offsets of every packed parameter; the arena is not allocated yet.
DeviceWeights plan_layout(const LayerList& list, const std::vector<bool>& half_weights, const LayerPacker& pack,
                          uint64_t max_binding_bytes, VkDeviceSize alignment) {
  DeviceWeights layout;
  layout.ranges.resize(list.layers.size());
  const std::shared_ptr<const float> zeros = zero_values(list);
  uint64_t total = 0;
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const Layer& layer = list.layers[i];
    const auto packed = pack(zeros_like(layer, zeros), i);
    for (size_t k = 0; k < packed.size(); ++k) {
      const uint64_t bytes = stored_bytes(half_weights, i, k, packed[k].size());
      if (bytes > max_binding_bytes)
        throw DeviceError(layer.name + " parameters need " + std::to_string(bytes) +
                          " bytes, more than the device's maxStorageBufferRange (" + std::to_string(max_binding_bytes) +
                          ")");
      total = vk::align_up(total, alignment);
      layout.ranges[i].emplace_back(total, bytes);
      total += bytes;
    }
  }
  return layout;
}

// Allocates the arena and writes every layer into it: mapped memory directly, else through one
// staging buffer the size of the largest layer and one copy per layer.
DeviceWeights write_layers(const std::shared_ptr<vk::Context>& context, LayerList& list,
                           const std::vector<bool>& half_weights, const LayerPacker& pack, DeviceWeights weights,
                           VkDeviceSize alignment) {
  uint64_t total = alignment, largest_layer = 0;
  for (const auto& ranges : weights.ranges)
    if (!ranges.empty()) {
      total = std::max(total, ranges.back().first + ranges.back().second);
      largest_layer = std::max(largest_layer, ranges.back().first + ranges.back().second - ranges.front().first);
    }
  weights.arena = std::make_unique<vk::Arena>(context, total, vk::MemoryUse::DeviceLocal, "weights");
  std::unique_ptr<vk::Arena> staging;
  if (!weights.arena->host_visible() && largest_layer > 0)
    staging = std::make_unique<vk::Arena>(context, largest_layer, vk::MemoryUse::Upload, "weight staging");

  for (size_t i = 0; i < list.layers.size(); ++i) {
    Layer& layer = list.layers[i];
    const auto packed = pack(layer, i);
    if (packed.size() != weights.ranges[i].size()) throw Error("internal: " + layer.name + " packed differently twice");
    std::vector<std::pair<vk::BufferSlice, vk::BufferSlice>> copies;
    for (size_t k = 0; k < packed.size(); ++k) {
      const auto [offset, bytes] = weights.ranges[i][k];
      if (stored_bytes(half_weights, i, k, packed[k].size()) != bytes)
        throw Error("internal: " + layer.name + " packed differently twice");
      if (bytes == 0) continue;
      const vk::BufferSlice destination = weights.arena->slice(offset, bytes);
      // Staged at the same offset relative to the layer's first parameter, so alignment carries over.
      const vk::BufferSlice target =
          staging ? staging->slice(offset - weights.ranges[i].front().first, bytes) : destination;
      if (staging) copies.emplace_back(target, destination);
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
    release_host_values(layer);
  }
  weights.arena->flush();
  return weights;
}

// What makes two plans' weights the same bytes: the device, and per layer its name, op, fusion
// flags, packed sizes and which parameters are half (the values come from the one model).
std::string layout_key(const vk::Context& context, const LayerList& list, const DeviceWeights& layout,
                       const std::vector<bool>& half_weights) {
  std::ostringstream key;
  key << &context;
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const Layer& layer = list.layers[i];
    key << '|' << layer.name << ' ' << int(layer.op) << ' ' << layer.fused_layer_norm << layer.emits_statistics
        << layer.normalize_input << layer.input_statistics << layer.fused_projection << layer.gather_patches
        << half_weights[i];
    for (const auto& [offset, bytes] : layout.ranges[i]) key << ' ' << offset << ':' << bytes;
  }
  return key.str();
}

}  // namespace

std::shared_ptr<const DeviceWeights> WeightCache::find_or_upload(const std::string& key,
                                                                 const std::function<DeviceWeights()>& upload) {
  // Held while uploading: a second plan of the same layout waits for the first instead of uploading twice.
  std::lock_guard lock(mutex_);
  if (auto weights = entries_[key].lock()) return weights;
  auto weights = std::make_shared<const DeviceWeights>(upload());
  entries_[key] = weights;
  return weights;
}

std::shared_ptr<const DeviceWeights> upload_weights(const std::shared_ptr<vk::Context>& context, LayerList& list,
                                                    const std::vector<bool>& half_weights, const LayerPacker& pack,
                                                    uint64_t max_binding_bytes, WeightCache* cache) {
  const VkDeviceSize alignment = vk::binding_alignment(context->info());
  DeviceWeights layout = plan_layout(list, half_weights, pack, max_binding_bytes, alignment);
  auto upload = [&] { return write_layers(context, list, half_weights, pack, std::move(layout), alignment); };
  if (!cache) return std::make_shared<const DeviceWeights>(upload());
  const std::string key = layout_key(*context, list, layout, half_weights);
  auto weights = cache->find_or_upload(key, upload);
  for (Layer& layer : list.layers) release_host_values(layer);  // a reused upload read none of them
  return weights;
}

}  // namespace vkvision::graph
