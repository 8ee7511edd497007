// The subset of Python's pickle protocol (2-5) that torch.save uses for state dicts. Nothing in the
// file is executed: classes become named opaque objects, and only torch's tensor rebuild functions
// and OrderedDict are understood.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vkvision::io::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct None {};
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
using Tuple = std::vector<ValuePtr>;
struct List {
  std::vector<ValuePtr> items;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};

struct Value {
  std::variant<None, bool, int64_t, double, std::string, Tuple, List, Dict, Global, Storage, Tensor, Object> data;
};

// Throws std::runtime_error describing the problem (the caller adds the file name).
ValuePtr load(std::span<const std::byte> bytes);

}  // namespace vkvision::io::pickle
