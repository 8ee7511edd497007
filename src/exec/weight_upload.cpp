#include "exec/weight_upload.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "ops/half_weights.h"
#include "vk/command.h"
#include "vkvision/error.h"

namespace vkvision::exec {

using namespace ir;
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

// Offsets of every packed parameter; the arenas are not allocated yet. A parameter that would take
// the current arena past max_arena_bytes starts the next one.
DeviceWeights plan_layout(const LayerList& list, const std::vector<bool>& half_weights,
                          const LayerPacker& pack, uint64_t max_binding_bytes, uint64_t max_arena_bytes,
                          VkDeviceSize alignment) {
  DeviceWeights layout;
  layout.ranges.resize(list.layers.size());
  const std::shared_ptr<const float> zeros = zero_values(list);
  size_t arena = 0;
  uint64_t used = 0;
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const Layer& layer = list.layers[i];
    const auto packed = pack(zeros_like(layer, zeros), i);
    for (size_t k = 0; k < packed.size(); ++k) {
      const uint64_t bytes = stored_bytes(half_weights, i, k, packed[k].size());
      if (bytes > max_binding_bytes)
        throw DeviceError(layer.name + " parameters need " + std::to_string(bytes) +
                          " bytes, more than the device's maxStorageBufferRange (" +
                          std::to_string(max_binding_bytes) + ")");
      if (bytes > max_arena_bytes)
        throw DeviceError(layer.name + " parameters need " + std::to_string(bytes) +
                          " bytes, more than one allocation on this device may hold (" +
                          std::to_string(max_arena_bytes) + ": maxMemoryAllocationSize/maxBufferSize)");
      uint64_t offset = vk::align_up(used, alignment);
      if (offset + bytes > max_arena_bytes && used > 0) ++arena, offset = 0;
      layout.ranges[i].push_back({arena, offset, bytes});
      used = offset + bytes;
    }
  }
  return layout;
}

// Where each of a layer's parameters sits in the staging buffer (packed from 0, aligned), and the
// bytes they take.
std::pair<std::vector<uint64_t>, uint64_t> staged_offsets(const std::vector<WeightRange>& ranges,
                                                          VkDeviceSize alignment) {
  std::vector<uint64_t> offsets;
  uint64_t end = 0;
  for (const WeightRange& range : ranges) {
    offsets.push_back(vk::align_up(end, alignment));
    end = offsets.back() + range.bytes;
  }
  return {offsets, end};
}

// Allocates the arenas and writes every layer into them: mapped memory directly, else through one
// staging buffer the size of the largest layer and one copy per layer.
DeviceWeights write_layers(const std::shared_ptr<vk::Context>& context, LayerList& list,
                           const std::vector<bool>& half_weights, const LayerPacker& pack,
                           DeviceWeights weights, VkDeviceSize alignment) {
  std::vector<uint64_t> arena_bytes;
  uint64_t largest_layer = 0;
  for (const auto& ranges : weights.ranges)
    for (const WeightRange& range : ranges) {
      if (arena_bytes.size() <= range.arena) arena_bytes.resize(range.arena + 1, alignment);
      arena_bytes[range.arena] = std::max(arena_bytes[range.arena], range.offset + range.bytes);
    }
  for (const auto& ranges : weights.ranges)
    largest_layer = std::max(largest_layer, staged_offsets(ranges, alignment).second);
  if (arena_bytes.empty()) arena_bytes.push_back(alignment);
  for (size_t a = 0; a < arena_bytes.size(); ++a)
    weights.arenas.push_back(std::make_unique<vk::Arena>(
        context, arena_bytes[a], vk::MemoryUse::DeviceLocal,
        arena_bytes.size() == 1
            ? std::string("weights")
            : "weights (part " + std::to_string(a + 1) + " of " + std::to_string(arena_bytes.size()) + ")"));
  std::unique_ptr<vk::Arena> staging;
  if (!weights.arenas[0]->host_visible() && largest_layer > 0)
    staging = std::make_unique<vk::Arena>(context, largest_layer, vk::MemoryUse::Upload, "weight staging");

  for (size_t i = 0; i < list.layers.size(); ++i) {
    Layer& layer = list.layers[i];
    const auto packed = pack(layer, i);
    if (packed.size() != weights.ranges[i].size())
      throw Error("internal: " + layer.name + " packed differently twice");
    std::vector<std::pair<vk::BufferSlice, vk::BufferSlice>> copies;
    const std::vector<uint64_t> staged = staged_offsets(weights.ranges[i], alignment).first;
    for (size_t k = 0; k < packed.size(); ++k) {
      const WeightRange range = weights.ranges[i][k];
      if (stored_bytes(half_weights, i, k, packed[k].size()) != range.bytes)
        throw Error("internal: " + layer.name + " packed differently twice");
      if (range.bytes == 0) continue;
      const vk::BufferSlice destination = weights.slice(i, k);
      const vk::BufferSlice target = staging ? staging->slice(staged[k], range.bytes) : destination;
      if (staging) copies.emplace_back(target, destination);
      if (k == 0 && half_weights[i]) {
        const std::vector<uint16_t> halves = ops::to_half(packed[k]);
        std::memcpy(target.mapped, halves.data(), range.bytes);
      } else {
        std::memcpy(target.mapped, packed[k].data(), range.bytes);
      }
      target.flush();
    }
    if (!copies.empty()) {
      vk::CommandBuffer commands(*context);
      commands.begin();
      for (const auto& [source, destination] : copies) commands.copy(source, destination);
      commands.end();
      context->submit_and_wait(commands.handle());
    }
    release_host_values(layer);
  }
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
    key << '|' << layer.name << ' ' << int(layer.op) << ' ' << layer.fused_layer_norm
        << layer.emits_statistics << layer.normalize_input << layer.input_statistics << layer.fused_projection
        << layer.gather_patches << half_weights[i];
    for (const WeightRange& range : layout.ranges[i])
      key << ' ' << range.arena << '@' << range.offset << ':' << range.bytes;
  }
  return key.str();
}

}  // namespace

std::shared_ptr<const DeviceWeights> WeightCache::find_or_upload(
    const std::string& key, const std::function<DeviceWeights()>& upload) {
  // Held while uploading: a second plan of the same layout waits for the first instead of uploading twice.
  std::lock_guard lock(mutex_);
  if (auto weights = entries_[key].lock()) return weights;
  auto weights = std::make_shared<const DeviceWeights>(upload());
  entries_[key] = weights;
  return weights;
}

std::shared_ptr<const DeviceWeights> upload_weights(const std::shared_ptr<vk::Context>& context,
                                                    LayerList& list, const std::vector<bool>& half_weights,
                                                    const LayerPacker& pack, uint64_t max_binding_bytes,
                                                    WeightCache* cache) {
  const VkDeviceSize alignment = vk::binding_alignment(context->info());
  DeviceWeights layout = plan_layout(list, half_weights, pack, max_binding_bytes,
                                     vk::max_arena_bytes(context->info()), alignment);
  auto upload = [&] { return write_layers(context, list, half_weights, pack, std::move(layout), alignment); };
  if (!cache) return std::make_shared<const DeviceWeights>(upload());
  const std::string key = layout_key(*context, list, layout, half_weights);
  auto weights = cache->find_or_upload(key, upload);
  for (Layer& layer : list.layers) release_host_values(layer);  // a reused upload read none of them
  return weights;
}

}  // namespace vkvision::exec
