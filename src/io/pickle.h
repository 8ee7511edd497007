// The subset of Python's pickle protocol (2-5) that torch.save uses for state dicts. Nothing in the
// file is executed: classes become named opaque objects, and only torch's tensor rebuild functions
// and OrderedDict are understood.
//
// Untrusted input: the machine is a loop over opcodes (no recursion), every value is owned by the
// Document in one flat list (containers refer to values by pointer, so destroying a million nested
// tuples or a self-referencing list recurses nowhere and leaks nothing), and the value count,
// container nesting, MARK nesting and memo are bounded.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vkvision::io::pickle {

struct Value;

struct None {};
// An integer of more than 64 bits (LONG1/LONG4): kept so the load goes on; never a size.
struct BigInt {};
struct Global {
  std::string module, name;
};
// A persistent storage reference: ('storage', torch.<Type>Storage, key, location, numel).
struct Storage {
  std::string type;  // e.g. "FloatStorage"
  std::string key;   // entry name under <archive>/data/
};
struct Tensor {
  Storage storage;
  int64_t offset = 0;
  std::vector<int64_t> shape, stride;
};
// Anything else built from a global: kept only so the load can go on.
struct Object {
  Global type;
};
struct Tuple {
  std::vector<const Value*> items;
};
struct List {
  std::vector<const Value*> items;
};
struct Dict {
  std::vector<std::pair<const Value*, const Value*>> items;
};

struct Value {
  std::variant<None, bool, int64_t, double, std::string, Tuple, List, Dict, Global, Storage, Tensor, Object,
               BigInt>
      data;
  uint32_t depth = 0;  // container nesting below this value, as built
};

struct Limits {
  size_t max_values = size_t(1) << 22;  // torch state dicts: a few values per tensor
  uint32_t max_depth = 256;             // state dicts nest a handful of levels
  size_t max_memo = size_t(1) << 22;
};

class Document {
 public:
  const Value& root() const { return *root_; }

 private:
  std::deque<Value> values_;  // stable addresses
  const Value* root_ = nullptr;
  friend class Machine;
};

// Throws std::runtime_error describing the problem (the caller adds the file name).
Document load(std::span<const std::byte> bytes, const Limits& limits = {});

}  // namespace vkvision::io::pickle
