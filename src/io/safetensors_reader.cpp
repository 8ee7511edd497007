// safetensors: 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
// {dtype, shape, data_offsets: [begin, end]} relative to the byte after the header, and an optional
// "__metadata__" string map. Every offset and size is checked, in overflow-checked arithmetic,
// before a tensor points into the file; nothing read from the JSON is echoed unescaped.
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/checkpoint_readers.h"
#include "io/mapped_file.h"
#include "io/untrusted.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

// The reference implementation's limit (safetensors' MAX_HEADER_SIZE): a header is names and
// shapes, a few hundred bytes per tensor.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kMaxRank = 16;

bool parse_dtype(const std::string& name, DType& dtype) {
  static const std::map<std::string, DType> table = {
      {"F32", DType::F32}, {"F16", DType::F16},  {"BF16", DType::BF16}, {"F64", DType::F64},
      {"I64", DType::I64}, {"I32", DType::I32},  {"I16", DType::I16},   {"I8", DType::I8},
      {"U8", DType::U8},   {"BOOL", DType::Bool}};
  auto it = table.find(name);
  if (it == table.end()) return false;
  dtype = it->second;
  return true;
}

// A JSON value as short text for a message; never dump() a stranger's value (it recurses, and throws
// on invalid UTF-8).
std::string describe(const nlohmann::json& value) {
  if (value.is_string()) return "'" + printable(value.get_ref<const std::string&>()) + "'";
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_array()) return "an array of " + std::to_string(value.size());
  return std::string("a JSON ") + value.type_name();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

bool looks_like_safetensors(std::span<const std::byte> bytes) {
  if (bytes.size() < 10) return false;
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | std::to_integer<uint8_t>(bytes[i]);
  return length >= 2 && std::to_integer<char>(bytes[8]) == '{';
}

void SafetensorsReader::read(Checkpoint& checkpoint) {
  const auto bytes = checkpoint.file_->bytes();
  const std::string file = checkpoint.path_.string();
  auto fail = [&](const std::string& problem) -> void { throw InputError(file + ": " + problem); };
  if (bytes.size() < 8)
    fail("truncated: " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | std::to_integer<uint8_t>(bytes[i]);
  if (header_length > bytes.size() - 8)
    fail("truncated: safetensors header of " + std::to_string(header_length) +
         " bytes runs past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  if (header_length > kMaxHeaderBytes)
    fail("safetensors header of " + std::to_string(header_length) + " bytes is over the format's limit of " +
         std::to_string(kMaxHeaderBytes));
  const char* header_text = reinterpret_cast<const char*>(bytes.data() + 8);
  const nlohmann::json header =
      nlohmann::json::parse(header_text, header_text + header_length, nullptr, false);
  if (header.is_discarded() || !header.is_object()) fail("safetensors header is not a JSON object");
  const uint64_t data_begin = 8 + header_length, data_size = bytes.size() - data_begin;
  for (const auto& [name, entry] : header.items()) {
    const std::string quoted = "'" + printable(name) + "'";
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ is not a JSON object");
      for (const auto& [key, value] : entry.items())
        if (value.is_string()) checkpoint.metadata_[key] = value.get<std::string>();
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      fail("tensor " + quoted + " lacks dtype, shape or data_offsets");
    TensorRecord record;
    const auto& dtype = entry["dtype"];
    if (!dtype.is_string() || !parse_dtype(dtype.get<std::string>(), record.dtype))
      fail("tensor " + quoted + " has unknown dtype " + describe(dtype));
    const auto& shape = entry["shape"];
    if (!shape.is_array()) fail("tensor " + quoted + " has a shape that is not a list: " + describe(shape));
    if (shape.size() > kMaxRank)
      fail("tensor " + quoted + " has " + std::to_string(shape.size()) + " dimensions, more than " +
           std::to_string(kMaxRank));
    // Element count and byte size in checked arithmetic; a shape is possible only if its bytes fit the data.
    std::optional<uint64_t> count = 1;
    for (const auto& dim : shape) {
      if (!dim.is_number_unsigned())
        fail("tensor " + quoted + " has a shape entry that is not a size: " + describe(dim));
      const uint64_t size = dim.get<uint64_t>();
      if (size > uint64_t(INT64_MAX))
        fail("tensor " + quoted + " has a dimension of " + std::to_string(size));
      record.shape.push_back(static_cast<int64_t>(size));
      if (count) count = checked_mul(*count, size);
    }
    const std::optional<uint64_t> needed =
        count ? checked_mul(*count, dtype_size(record.dtype)) : std::nullopt;
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail("tensor " + quoted + " has malformed data_offsets (" + describe(offsets) + ")");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail("truncated: tensor " + quoted + " data [" + std::to_string(begin) + ", " + std::to_string(end) +
           ") runs past the end of the data (" + std::to_string(data_size) + " bytes)");
    if (!needed || end - begin != *needed)
      fail("tensor " + quoted + " has " + std::to_string(end - begin) + " bytes, but shape " +
           shape_text(record.shape) + " of " + dtype_name(record.dtype) + " needs " +
           (needed ? std::to_string(*needed) : "more than 2^64"));
    record.data = bytes.data() + data_begin + begin;
    record.nbytes = end - begin;
    checkpoint.add_tensor(name, std::move(record));
  }
}

}  // namespace vkvision::io
