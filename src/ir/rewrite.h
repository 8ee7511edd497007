// The scaffold of the rewrite passes (ir/passes.cpp): a scan over the layers of one kind, and the
// matches they share on a layer's producer or reader. Host-only.
#pragma once
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "ir/layer_list.h"

namespace vkvision::ir {

// Where a scan resumes after a rewrite: nullopt when nothing matched (the list is as it was; the scan
// moves on to index + 1), else the index to examine next: `index` after erasing the layer there or
// one before it, 0 to rescan a list whose earlier layers may match again, index + 1 past it, ...
using Resume = std::optional<size_t>;
// Rewrites the layer at `index` (of one of the scanned ops) in place, or leaves the list as it was.
using Rewrite = std::function<Resume(LayerList& list, size_t index)>;

// Calls `rewrite` on each layer whose op is one of `ops`, in order, and returns the rewritten list.
LayerList rewrite_each(LayerList list, std::initializer_list<OpKind> ops, const Rewrite& rewrite);
inline LayerList rewrite_each(LayerList list, OpKind op, const Rewrite& rewrite) {
  return rewrite_each(std::move(list), {op}, rewrite);
}

// Removes layer `index`.
void erase_layer(LayerList& list, size_t index);

// Removes layer `index`, whose single input is produced by layer `into`: `into` takes over the
// removed layer's output name so every later consumer is unchanged.
void absorb(LayerList& list, size_t into, size_t index);

// The producer of `tensor` when that tensor feeds nothing else (and is not the network's output);
// else -1.
int sole_producer(const LayerList& list, const std::string& tensor);
// ... of layer `index`'s first input.
inline int sole_producer(const LayerList& list, size_t index) {
  return sole_producer(list, list.layers[index].inputs[0]);
}

// The only reader of `tensor` (which is not the network's output); else -1.
int sole_reader(const LayerList& list, const std::string& tensor);

// `layer` reads `tensor` as its main input (inputs[0]) and nowhere else: a residual or gate input
// reading it would still need the tensor.
bool reads_only_as_main_input(const Layer& layer, const std::string& tensor);

// The Linear that is the only reader of `tensor`, reading it only as its main input and not already
// normalising that input; else -1.
int sole_linear_reader(const LayerList& list, const std::string& tensor);

// The producers of an Add's two inputs (layer `index`): two distinct layers, each feeding only the
// Add; else nullopt.
std::optional<std::pair<size_t, size_t>> sole_branch_producers(const LayerList& list, size_t index);

// Replaces the Add at `index` and its two branches (`a`, `b`) by `merged`, which takes the later
// branch's position (both inputs exist there); the earlier branch and the Add are removed.
void replace_branches(LayerList& list, size_t index, size_t a, size_t b, Layer merged);

}  // namespace vkvision::ir
