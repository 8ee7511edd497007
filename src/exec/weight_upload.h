// A plan's weights on the device: every layer's parameters, packed in the layout its kernel reads, in
// one arena (or several where one allocation cannot hold them all). They are written layer by layer through
// one packing buffer, and each layer's host values are let go once written, so the host never holds a second
// copy of all weights.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ir/layer_list.h"
#include "vk/memory.h"

namespace vkvision::exec {

using ir::HostTensor;
using ir::Layer;
using ir::LayerList;
using ir::OpKind;
using ir::Shape;
using ir::shape_numel;
using ir::shape_string;

// A layer's parameters in the layout its kernel reads, in binding order. Their sizes must depend only
// on the parameters' shapes: the layout is planned by packing zeros of the same shapes first.
using LayerPacker = std::function<std::vector<std::vector<float>>(const Layer& layer, size_t index)>;

// Where one packed parameter is: which arena, and its offset and size in bytes there.
struct WeightRange {
  size_t arena = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

struct DeviceWeights {
  // One arena unless the weights exceed what one allocation or buffer may hold (vk::max_arena_bytes):
  // then consecutive layers fill one arena after another, no parameter split across two.
  std::vector<std::unique_ptr<vk::Arena>> arenas;
  // Per layer, per packed parameter.
  std::vector<std::vector<WeightRange>> ranges;

  vk::BufferSlice slice(size_t layer, size_t parameter) const {
    const WeightRange& range = ranges[layer][parameter];
    return arenas[range.arena]->slice(range.offset, range.bytes);
  }
  uint64_t bytes() const {
    uint64_t total = 0;
    for (const auto& arena : arenas) total += arena->size();
    return total;
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
std::shared_ptr<const DeviceWeights> upload_weights(const std::shared_ptr<vk::Context>& context,
                                                    LayerList& list, const std::vector<bool>& half_weights,
                                                    const LayerPacker& pack, uint64_t max_binding_bytes,
                                                    WeightCache* cache = nullptr);

}  // namespace vkvision::exec
