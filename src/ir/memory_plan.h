// Activation memory by liveness: tensors whose lifetimes overlap get disjoint ranges of one
// buffer; the rest share. Greedy placement by decreasing size, lowest offset that fits.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

}  // namespace vkvision::ir
