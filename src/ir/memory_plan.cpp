#include "ir/memory_plan.h"

#include <algorithm>

namespace vkvision::ir {

MemoryPlan plan_memory(const std::vector<TensorLifetime>& tensors, uint64_t alignment) {
  auto align = [alignment](uint64_t value) { return (value + alignment - 1) / alignment * alignment; };
  std::vector<const TensorLifetime*> order;
  for (const auto& tensor : tensors) order.push_back(&tensor);
  std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->bytes > b->bytes; });

  struct Placed {
    const TensorLifetime* tensor;
    uint64_t offset, end;
  };
  std::vector<Placed> placed;
  MemoryPlan plan;
  for (const TensorLifetime* tensor : order) {
    const uint64_t size = align(std::max<uint64_t>(tensor->bytes, 1));
    plan.naive_bytes += size;
    // Ranges of already placed tensors alive at the same time, sorted by offset.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (const Placed& other : placed)
      if (other.tensor->first <= tensor->last && tensor->first <= other.tensor->last)
        busy.emplace_back(other.offset, other.end);
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, align(end));
    }
    placed.push_back({tensor, offset, offset + size});
    plan.offsets[tensor->name] = offset;
    plan.total_bytes = std::max(plan.total_bytes, offset + size);
  }
  return plan;
}

uint64_t statistics_offset(const Shape& shape, uint64_t alignment) {
  const uint64_t bytes = uint64_t(shape_numel(shape)) * sizeof(float);
  return (bytes + alignment - 1) / alignment * alignment;
}

uint64_t statistics_bytes(const Shape& shape) {
  return uint64_t(shape_numel(shape) / shape.back()) * 2 * sizeof(float);
}

std::vector<TensorLifetime> tensor_lifetimes(const LayerList& list,
                                             const std::map<std::string, Shape>& shapes, uint64_t alignment) {
  std::vector<TensorLifetime> lifetimes;
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const std::string& name = list.layers[i].output;
    const Shape& shape = shapes.at(name);
    const uint64_t bytes = list.layers[i].emits_statistics
                               ? statistics_offset(shape, alignment) + statistics_bytes(shape)
                               : shape_numel(shape) * sizeof(float);
    int last = static_cast<int>(i);
    for (size_t consumer : list.consumers(name)) last = std::max(last, static_cast<int>(consumer));
    if (name == list.output) last = static_cast<int>(list.layers.size());
    lifetimes.push_back({name, bytes, static_cast<int>(i), last});
  }
  return lifetimes;
}

}  // namespace vkvision::ir
