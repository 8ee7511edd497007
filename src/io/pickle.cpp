#include "io/pickle.h"

#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "io/untrusted.h"

namespace vkvision::io::pickle {

class Machine {
 public:
  Machine(std::span<const std::byte> bytes, const Limits& limits) : bytes_(bytes), limits_(limits) {}

  Document run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;     // PROTO
        case 0x95: take(8); break;  // FRAME
        case '.':                   // STOP
          document_.root_ = pop();
          return std::move(document_);
        case '(':  // MARK
          if (marks_.size() >= limits_.max_depth)
            fail("MARKs nest deeper than " + std::to_string(limits_.max_depth));
          marks_.push_back(stack_.size());
          break;
        case '}': push(Dict{}); break;                       // EMPTY_DICT
        case ']': push(List{}); break;                       // EMPTY_LIST
        case ')': push(Tuple{}); break;                      // EMPTY_TUPLE
        case 0x8f: push(List{}); break;                      // EMPTY_SET (kept as a list)
        case 't': push_container(Tuple{pop_mark()}); break;  // TUPLE
        case 0x85: {
          auto a = pop();
          push_container(Tuple{{a}});
          break;
        }  // TUPLE1
        case 0x86: {
          auto b = pop(), a = pop();
          push_container(Tuple{{a, b}});
          break;
        }  // TUPLE2
        case 0x87: {
          auto c = pop(), b = pop(), a = pop();
          push_container(Tuple{{a, b, c}});
          break;
        }                                                // TUPLE3
        case 'X': push(text(u32())); break;              // BINUNICODE
        case 0x8c: push(text(u8())); break;              // SHORT_BINUNICODE
        case 0x8d: push(text(u64())); break;             // BINUNICODE8
        case 'T': push(text(u32())); break;              // BINSTRING
        case 'U': push(text(u8())); break;               // SHORT_BINSTRING
        case 'B': push(text(u32())); break;              // BINBYTES
        case 'C': push(text(u8())); break;               // SHORT_BINBYTES
        case 0x8e: push(text(u64())); break;             // BINBYTES8
        case 'J': push(int64_t(int32_t(u32()))); break;  // BININT
        case 'K': push(int64_t(u8())); break;            // BININT1
        case 'M': push(int64_t(u16())); break;           // BININT2
        case 0x8a: long_int(u8()); break;                // LONG1
        case 0x8b: long_int(u32()); break;               // LONG4
        case 'G': push(float64()); break;                // BINFLOAT
        case 'N': push(None{}); break;
        case 0x88: push(true); break;   // NEWTRUE
        case 0x89: push(false); break;  // NEWFALSE
        case 'c': {                     // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(Global{module, name});
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = pop(), module = pop();
          push(Global{as_string(module), as_string(name)});
          break;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ
          auto args = pop(), callable = pop();
          stack_.push_back(reduce(callable, args));
          break;
        }
        case 'b': pop(); break;                            // BUILD: object state is not needed
        case 'q': remember(u8()); break;                   // BINPUT
        case 'r': remember(u32()); break;                  // LONG_BINPUT
        case 0x94: remember(memo_.size()); break;          // MEMOIZE
        case 'h': stack_.push_back(recall(u8())); break;   // BINGET
        case 'j': stack_.push_back(recall(u32())); break;  // LONG_BINGET
        case 's': {                                        // SETITEM
          auto value = pop(), key = pop();
          if (Dict* target = mutable_as<Dict>(top()))
            target->items.emplace_back(key, value), deepen(top(), {key, value});
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
          if (Dict* target = mutable_as<Dict>(top())) {
            for (size_t i = 0; i < items.size(); i += 2) target->items.emplace_back(items[i], items[i + 1]);
            deepen(top(), items);
          }
          break;
        }
        case 'a': {  // APPEND
          auto value = pop();
          if (List* target = mutable_as<List>(top())) target->items.push_back(value), deepen(top(), {value});
          break;
        }
        case 'e':
        case 0x90: {  // APPENDS, ADDITEMS
          auto items = pop_mark();
          if (List* target = mutable_as<List>(top())) {
            target->items.insert(target->items.end(), items.begin(), items.end());
            deepen(top(), items);
          }
          break;
        }
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        case '0': pop(); break;                    // POP
        case '2': stack_.push_back(top()); break;  // DUP
        default: fail("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(position_ - 1));
      }
    }
  }

 private:
  [[noreturn]] static void fail(const std::string& problem) { throw std::runtime_error(problem); }
  static std::string hex(uint8_t v) {
    const char* digits = "0123456789abcdef";
    return {digits[v >> 4], digits[v & 15]};
  }
  const std::byte* take(uint64_t n) {
    if (!range_inside(position_, n, bytes_.size())) fail("pickle data ends early");
    const std::byte* p = bytes_.data() + position_;
    position_ += n;
    return p;
  }
  uint64_t little(size_t n) {
    const std::byte* p = take(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | std::to_integer<uint8_t>(p[i]);
    return v;
  }
  uint8_t u8() { return uint8_t(little(1)); }
  uint16_t u16() { return uint16_t(little(2)); }
  uint32_t u32() { return uint32_t(little(4)); }
  uint64_t u64() { return little(8); }
  double float64() {  // big-endian IEEE double
    const std::byte* p = take(8);
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | std::to_integer<uint8_t>(p[i]);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  void long_int(uint64_t n) {
    const std::byte* p = take(n);
    if (n > 8) return push(BigInt{});
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | std::to_integer<uint8_t>(p[i]);
    if (n > 0 && n < 8 && (std::to_integer<uint8_t>(p[n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);
    push(int64_t(v));
  }
  std::string text(uint64_t n) {
    const std::byte* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string line() {
    const std::byte* start = bytes_.data() + position_;
    const void* end = std::memchr(start, '\n', bytes_.size() - position_);
    if (!end) fail("pickle data ends early");
    const size_t length = static_cast<const std::byte*>(end) - start;
    take(length + 1);
    return std::string(reinterpret_cast<const char*>(start), length);
  }

  template <typename T>
  const Value* make(T value, uint32_t depth = 0) {
    if (document_.values_.size() >= limits_.max_values)
      fail("pickle holds more than " + std::to_string(limits_.max_values) + " values");
    document_.values_.push_back(Value{std::move(value), depth});
    return &document_.values_.back();
  }
  template <typename T>
  void push(T value) {
    stack_.push_back(make(std::move(value)));
  }
  // A container's depth is one more than its deepest item's.
  static uint32_t depth_over(const std::vector<const Value*>& items) {
    uint32_t depth = 0;
    for (const Value* item : items) depth = std::max(depth, item->depth + 1);
    return depth;
  }
  void check_depth(uint32_t depth) const {
    if (depth > limits_.max_depth)
      fail("pickle containers nest deeper than " + std::to_string(limits_.max_depth));
  }
  void push_container(Tuple tuple) {
    const uint32_t depth = depth_over(tuple.items);
    check_depth(depth);
    stack_.push_back(make(std::move(tuple), depth));
  }
  // Items added to a list or dict after it was made (it may also sit inside an earlier container,
  // whose recorded depth then stays lower: depth only bounds how deep files may nest, nothing walks it).
  void deepen(const Value* target, const std::vector<const Value*>& items) {
    const uint32_t depth = depth_over(items);
    check_depth(depth);
    Value* writable = const_cast<Value*>(target);  // every value is the document's own
    writable->depth = std::max(writable->depth, depth);
  }
  template <typename T>
  static T* mutable_as(const Value* value) {  // items set on an opaque object are not needed
    return std::get_if<T>(&const_cast<Value*>(value)->data);
  }

  const Value* pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("pickle stack underflow");
    const Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  const Value* top() const {
    if (stack_.empty()) fail("pickle stack underflow");
    return stack_.back();
  }
  std::vector<const Value*> pop_mark() {
    if (marks_.empty()) fail("pickle MARK missing");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<const Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void remember(uint64_t key) {
    if (memo_.size() >= limits_.max_memo && !memo_.count(key))
      fail("pickle memo holds more than " + std::to_string(limits_.max_memo) + " entries");
    memo_[key] = top();
  }
  const Value* recall(uint64_t key) const {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("pickle memo key " + std::to_string(key) + " missing");
    return it->second;
  }
  static std::string as_string(const Value* v) {
    if (auto* s = std::get_if<std::string>(&v->data)) return *s;
    fail("pickle: expected a string");
  }
  static int64_t as_int(const Value* v) {
    if (auto* i = std::get_if<int64_t>(&v->data)) return *i;
    if (auto* b = std::get_if<bool>(&v->data)) return *b;
    if (std::holds_alternative<BigInt>(v->data)) fail("pickle: integer does not fit in 64 bits");
    fail("pickle: expected an integer");
  }
  static std::vector<int64_t> as_ints(const Value* v) {
    const Tuple* t = std::get_if<Tuple>(&v->data);
    if (!t) fail("pickle: expected a tuple of sizes");
    std::vector<int64_t> out;
    for (const Value* item : t->items) out.push_back(as_int(item));
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel)
  Storage persistent(const Value* id) const {
    const Tuple* t = std::get_if<Tuple>(&id->data);
    if (!t || t->items.size() < 3) fail("unsupported persistent id");
    const Global* type = std::get_if<Global>(&t->items[1]->data);
    if (!type) fail("persistent storage without a storage type");
    return Storage{type->name, as_string(t->items[2])};
  }

  const Value* reduce(const Value* callable, const Value* args) {
    const Global* global = std::get_if<Global>(&callable->data);
    const Tuple* arguments = std::get_if<Tuple>(&args->data);
    if (global && arguments) {
      const auto& items = arguments->items;
      if (global->module == "torch._utils" && global->name == "_rebuild_tensor_v2") {
        if (items.size() < 4) fail("_rebuild_tensor_v2 with too few arguments");
        const Storage* storage = std::get_if<Storage>(&items[0]->data);
        if (!storage) fail("_rebuild_tensor_v2 without a storage");
        Tensor tensor{*storage, as_int(items[1]), as_ints(items[2]), as_ints(items[3])};
        if (tensor.shape.size() != tensor.stride.size()) fail("tensor size and stride differ in rank");
        return make(std::move(tensor));
      }
      if (global->module == "torch._utils" &&
          (global->name == "_rebuild_parameter" || global->name == "_rebuild_parameter_with_state") &&
          !items.empty())
        return items[0];
      if (global->module == "collections" && global->name == "OrderedDict") return make(Dict{});
    }
    return make(Object{global ? *global : Global{"?", "?"}});
  }

  std::span<const std::byte> bytes_;
  Limits limits_;
  size_t position_ = 0;
  Document document_;
  std::vector<const Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, const Value*> memo_;
};

Document load(std::span<const std::byte> bytes, const Limits& limits) { return Machine(bytes, limits).run(); }

}  // namespace vkvision::io::pickle
