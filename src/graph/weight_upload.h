// A plan's weights on the device: every layer's parameters, packed in the layout its kernel reads, in
// one arena. They are written layer by layer through one packing buffer, and each layer's host values
// are let go once written, so the host never holds a second copy of all weights.
#pragma once
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "graph/layer_list.h"
#include "vk/memory.h"

namespace vkvision::graph {

// A layer's parameters in the layout its kernel reads, in binding order. Their sizes must depend only
// on the parameters' shapes: the layout is planned by packing zeros of the same shapes first.
using LayerPacker = std::function<std::vector<std::vector<float>>(const Layer& layer, size_t index)>;

struct DeviceWeights {
  std::unique_ptr<vk::Arena> arena;
  // Per layer, per packed parameter: offset and size in bytes within the arena.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> ranges;

  vk::BufferSlice slice(size_t layer, size_t parameter) const {
    return arena->slice(ranges[layer][parameter].first, ranges[layer][parameter].second);
  }
};

// Packs and uploads every layer of `list`; a layer with half_weights[i] stores its parameter 0 as IEEE
// half. Afterwards the list's parameters keep their shapes only (the values are released). Throws
// DeviceError naming the layer when one parameter exceeds max_binding_bytes.
DeviceWeights upload_weights(const std::shared_ptr<vk::Context>& context, LayerList& list,
                             const std::vector<bool>& half_weights, const LayerPacker& pack, uint64_t max_binding_bytes);

}  // namespace vkvision::graph
