#include "ir/rewrite.h"

#include <algorithm>

namespace vkvision::ir {

LayerList rewrite_each(LayerList list, std::initializer_list<OpKind> ops, const Rewrite& rewrite) {
  for (size_t i = 0; i < list.layers.size();) {
    const OpKind op = list.layers[i].op;
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) {
      ++i;
      continue;
    }
    const Resume resume = rewrite(list, i);
    i = resume ? *resume : i + 1;
  }
  return list;
}

void erase_layer(LayerList& list, size_t index) {
  list.layers.erase(list.layers.begin() + static_cast<std::ptrdiff_t>(index));
}

void absorb(LayerList& list, size_t into, size_t index) {
  list.layers[into].output = list.layers[index].output;
  erase_layer(list, index);
}

int sole_producer(const LayerList& list, const std::string& tensor) {
  const int producer = list.producer(tensor);
  if (producer < 0 || list.consumers(tensor).size() != 1 || tensor == list.output) return -1;
  return producer;
}

int sole_reader(const LayerList& list, const std::string& tensor) {
  if (tensor == list.output) return -1;
  const std::vector<size_t> readers = list.consumers(tensor);
  return readers.size() == 1 ? static_cast<int>(readers[0]) : -1;
}

bool reads_only_as_main_input(const Layer& layer, const std::string& tensor) {
  return layer.inputs[0] == tensor && std::count(layer.inputs.begin(), layer.inputs.end(), tensor) == 1;
}

int sole_linear_reader(const LayerList& list, const std::string& tensor) {
  const int reader = sole_reader(list, tensor);
  if (reader < 0) return -1;
  const Layer& linear = list.layers[reader];
  if (linear.op != OpKind::Linear || linear.normalize_input || !reads_only_as_main_input(linear, tensor))
    return -1;
  return reader;
}

std::optional<std::pair<size_t, size_t>> sole_branch_producers(const LayerList& list, size_t index) {
  const Layer& add = list.layers[index];
  const int a = list.producer(add.inputs[0]), b = list.producer(add.inputs[1]);
  if (a < 0 || b < 0 || a == b) return std::nullopt;
  if (list.consumers(add.inputs[0]).size() != 1 || list.consumers(add.inputs[1]).size() != 1)
    return std::nullopt;
  return std::pair{static_cast<size_t>(a), static_cast<size_t>(b)};
}

void replace_branches(LayerList& list, size_t index, size_t a, size_t b, Layer merged) {
  list.layers[std::max(a, b)] = std::move(merged);
  erase_layer(list, index);
  erase_layer(list, std::min(a, b));
}

}  // namespace vkvision::ir
