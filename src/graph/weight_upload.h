// A plan's weights on the device: every layer's parameters, packed in the layout its kernel reads, in
// one arena. They are written layer by layer through one packing buffer, and each layer's host values
// are let go once written, so the host never holds a second copy of all weights.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
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

// Device weights shared by the plans of one model: a plan whose device, layer list and packed layout
// match weights still alive reuses them instead of uploading its own. Thread-safe.
class WeightCache {
 public:
  // The weights stored under `key`, or those `upload` makes (then stored, weakly: they live as long
  // as a plan holds them).
  std::shared_ptr<const DeviceWeights> find_or_upload(const std::string& key,
                                                      const std::function<DeviceWeights()>& upload);

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<const DeviceWeights>> entries_;
};

// Packs and uploads every layer of `list` (or reuses `cache`'s copy of the same layout on the same
// device); a layer with half_weights[i] stores its parameter 0 as IEEE half. Afterwards the list's
// parameters keep their shapes only (the values are released). Throws DeviceError naming the layer
// when one parameter exceeds max_binding_bytes.
std::shared_ptr<const DeviceWeights> upload_weights(const std::shared_ptr<vk::Context>& context, LayerList& list,
                                                    const std::vector<bool>& half_weights, const LayerPacker& pack,
                                                    uint64_t max_binding_bytes, WeightCache* cache = nullptr);

}  // namespace vkvision::graph
