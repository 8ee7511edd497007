#include "io/pickle.h"

#include <cstring>
#include <map>
#include <stdexcept>

namespace vkvision::io::pickle {
namespace {

class Machine {
 public:
  explicit Machine(std::span<const std::byte> bytes) : bytes_(bytes) {}

  ValuePtr run() {
    while (true) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                 // PROTO
        case 0x95: take(8); break;              // FRAME
        case '.': return pop();                 // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '}': push(Dict{}); break;          // EMPTY_DICT
        case ']': push(List{}); break;          // EMPTY_LIST
        case ')': push(Tuple{}); break;         // EMPTY_TUPLE
        case 0x8f: push(List{}); break;         // EMPTY_SET (kept as a list)
        case 't': push(Tuple(pop_mark())); break;  // TUPLE
        case 0x85: { auto a = pop(); push(Tuple{a}); break; }  // TUPLE1
        case 0x86: { auto b = pop(), a = pop(); push(Tuple{a, b}); break; }  // TUPLE2
        case 0x87: { auto c = pop(), b = pop(), a = pop(); push(Tuple{a, b, c}); break; }  // TUPLE3
        case 'X': push(text(u32())); break;     // BINUNICODE
        case 0x8c: push(text(u8())); break;     // SHORT_BINUNICODE
        case 0x8d: push(text(u64())); break;    // BINUNICODE8
        case 'T': push(text(u32())); break;     // BINSTRING
        case 'U': push(text(u8())); break;      // SHORT_BINSTRING
        case 'B': push(text(u32())); break;     // BINBYTES
        case 'C': push(text(u8())); break;      // SHORT_BINBYTES
        case 0x8e: push(text(u64())); break;    // BINBYTES8
        case 'J': push(int64_t(int32_t(u32()))); break;  // BININT
        case 'K': push(int64_t(u8())); break;   // BININT1
        case 'M': push(int64_t(u16())); break;  // BININT2
        case 0x8a: push(long_int(u8())); break; // LONG1
        case 0x8b: push(long_int(u32())); break;  // LONG4
        case 'G': push(float64()); break;       // BINFLOAT
        case 'N': push(None{}); break;
        case 0x88: push(true); break;           // NEWTRUE
        case 0x89: push(false); break;          // NEWFALSE
        case 'c': {                             // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(Global{module, name});
          break;
        }
        case 0x93: {                            // STACK_GLOBAL
          auto name = pop(), module = pop();
          push(Global{as_string(module), as_string(name)});
          break;
        }
        case 'R': { auto args = pop(), callable = pop(); push_value(reduce(callable, args)); break; }  // REDUCE
        case 0x81: { auto args = pop(), cls = pop(); push_value(reduce(cls, args)); break; }  // NEWOBJ
        case 'b': pop(); break;                 // BUILD: object state is not needed
        case 'q': memo_[u8()] = top(); break;   // BINPUT
        case 'r': memo_[u32()] = top(); break;  // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
        case 'h': push_value(memo(u8())); break;   // BINGET
        case 'j': push_value(memo(u32())); break;  // LONG_BINGET
        case 's': { auto value = pop(), key = pop(); dict(top()).items.emplace_back(key, value); break; }  // SETITEM
        case 'u': {                             // SETITEMS
          auto items = pop_mark();
          if (items.size() % 2) throw std::runtime_error("SETITEMS with an odd number of items");
          auto& target = dict(top());
          for (size_t i = 0; i < items.size(); i += 2) target.items.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'a': { auto value = pop(); list(top()).items.push_back(value); break; }  // APPEND
        case 'e': case 0x90: {                  // APPENDS, ADDITEMS
          auto items = pop_mark();
          auto& target = list(top());
          target.items.insert(target.items.end(), items.begin(), items.end());
          break;
        }
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        case '0': pop(); break;                 // POP
        case '2': push_value(top()); break;     // DUP
        default:
          throw std::runtime_error("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(position_ - 1));
      }
    }
  }

 private:
  static std::string hex(uint8_t v) {
    const char* digits = "0123456789abcdef";
    return {digits[v >> 4], digits[v & 15]};
  }
  const std::byte* take(size_t n) {
    if (n > bytes_.size() - position_) throw std::runtime_error("pickle data ends early");
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
  int64_t long_int(uint64_t n) {
    if (n > 8) {
      take(n);
      return 0;  // beyond int64: never a tensor size
    }
    const std::byte* p = take(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | std::to_integer<uint8_t>(p[i]);
    if (n > 0 && n < 8 && (std::to_integer<uint8_t>(p[n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);
    return int64_t(v);
  }
  std::string text(uint64_t n) {
    const std::byte* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string line() {
    std::string out;
    while (true) {
      char c = char(u8());
      if (c == '\n') return out;
      out += c;
    }
  }

  template <typename T>
  void push(T value) { stack_.push_back(std::make_shared<Value>(Value{std::move(value)})); }
  void push_value(ValuePtr value) { stack_.push_back(std::move(value)); }
  ValuePtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) throw std::runtime_error("pickle stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) throw std::runtime_error("pickle MARK missing");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  ValuePtr memo(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) throw std::runtime_error("pickle memo key " + std::to_string(key) + " missing");
    return it->second;
  }
  static Dict& dict(const ValuePtr& v) {
    if (auto* d = std::get_if<Dict>(&v->data)) return *d;
    static Dict ignored;  // items set on an opaque object: not needed
    ignored.items.clear();
    return ignored;
  }
  static List& list(const ValuePtr& v) {
    if (auto* l = std::get_if<List>(&v->data)) return *l;
    static List ignored;
    ignored.items.clear();
    return ignored;
  }
  static std::string as_string(const ValuePtr& v) {
    if (auto* s = std::get_if<std::string>(&v->data)) return *s;
    throw std::runtime_error("pickle: expected a string");
  }
  static int64_t as_int(const ValuePtr& v) {
    if (auto* i = std::get_if<int64_t>(&v->data)) return *i;
    if (auto* b = std::get_if<bool>(&v->data)) return *b;
    throw std::runtime_error("pickle: expected an integer");
  }
  static std::vector<int64_t> as_ints(const ValuePtr& v) {
    const Tuple* t = std::get_if<Tuple>(&v->data);
    if (!t) throw std::runtime_error("pickle: expected a tuple of sizes");
    std::vector<int64_t> out;
    for (const auto& item : *t) out.push_back(as_int(item));
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel)
  Value persistent(const ValuePtr& id) {
    const Tuple* t = std::get_if<Tuple>(&id->data);
    if (!t || t->size() < 3) throw std::runtime_error("unsupported persistent id");
    const Global* type = std::get_if<Global>(&(*t)[1]->data);
    if (!type) throw std::runtime_error("persistent storage without a storage type");
    return Value{Storage{type->name, as_string((*t)[2])}};
  }

  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    const Global* global = std::get_if<Global>(&callable->data);
    const Tuple* arguments = std::get_if<Tuple>(&args->data);
    if (global && arguments) {
      if (global->module == "torch._utils" && global->name == "_rebuild_tensor_v2") {
        if (arguments->size() < 4) throw std::runtime_error("_rebuild_tensor_v2 with too few arguments");
        const Storage* storage = std::get_if<Storage>(&(*arguments)[0]->data);
        if (!storage) throw std::runtime_error("_rebuild_tensor_v2 without a storage");
        Tensor tensor{*storage, as_int((*arguments)[1]), as_ints((*arguments)[2]), as_ints((*arguments)[3])};
        if (tensor.shape.size() != tensor.stride.size()) throw std::runtime_error("tensor size and stride differ in rank");
        return std::make_shared<Value>(Value{std::move(tensor)});
      }
      if (global->module == "torch._utils" &&
          (global->name == "_rebuild_parameter" || global->name == "_rebuild_parameter_with_state") &&
          !arguments->empty())
        return (*arguments)[0];
      if (global->module == "collections" && global->name == "OrderedDict")
        return std::make_shared<Value>(Value{Dict{}});
    }
    return std::make_shared<Value>(Value{Object{global ? *global : Global{"?", "?"}}});
  }

  std::span<const std::byte> bytes_;
  size_t position_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr load(std::span<const std::byte> bytes) { return Machine(bytes).run(); }

}  // namespace vkvision::io::pickle
