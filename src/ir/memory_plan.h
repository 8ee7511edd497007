// Activation memory by liveness: tensors whose lifetimes overlap get disjoint ranges of one
// buffer; the rest share. Greedy placement by decreasing size, lowest offset that fits.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/layer_list.h"

namespace vkvision::ir {

struct TensorLifetime {
  std::string name;
  uint64_t bytes = 0;
  int first = 0;  // index of the producing step
  int last = 0;   // index of the last step reading it (inclusive)
};

struct MemoryPlan {
  std::map<std::string, uint64_t> offsets;
  uint64_t total_bytes = 0;
  uint64_t naive_bytes = 0;  // what one buffer per tensor would take, for reporting
};

MemoryPlan plan_memory(const std::vector<TensorLifetime>& tensors, uint64_t alignment);

// A layer that emits row statistics (Layer::emits_statistics) keeps them right after its output:
// (mean, 1/std) per row, at this offset from the tensor's start and of these many bytes.
uint64_t statistics_offset(const Shape& shape, uint64_t alignment);
uint64_t statistics_bytes(const Shape& shape);

// Every layer output of `list`, from its producer to its last reader (the network output to the
// end), with its statistics where it has them.
std::vector<TensorLifetime> tensor_lifetimes(const LayerList& list,
                                             const std::map<std::string, Shape>& shapes, uint64_t alignment);

}  // namespace vkvision::ir
