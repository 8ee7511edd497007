// safetensors: 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
// {dtype, shape, data_offsets: [begin, end]} relative to the byte after the header, and an optional
// "__metadata__" string map. Every offset and size is checked before a tensor points into the file.
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/checkpoint_readers.h"
#include "io/mapped_file.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

bool parse_dtype(const std::string& name, DType& dtype) {
  static const std::map<std::string, DType> table = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F64", DType::F64}, {"I64", DType::I64},
      {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},     {"U8", DType::U8},   {"BOOL", DType::Bool}};
  auto it = table.find(name);
  if (it == table.end()) return false;
  dtype = it->second;
  return true;
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
  if (bytes.size() < 8) fail("truncated: " + std::to_string(bytes.size()) + " bytes, too short for a safetensors header");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | std::to_integer<uint8_t>(bytes[i]);
  if (header_length > bytes.size() - 8)
    fail("truncated: safetensors header of " + std::to_string(header_length) + " bytes runs past the end of the file (" +
         std::to_string(bytes.size()) + " bytes)");
  const char* header_text = reinterpret_cast<const char*>(bytes.data() + 8);
  const nlohmann::json header = nlohmann::json::parse(header_text, header_text + header_length, nullptr, false);
  if (header.is_discarded() || !header.is_object()) fail("safetensors header is not a JSON object");
  const uint64_t data_begin = 8 + header_length, data_size = bytes.size() - data_begin;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ is not a JSON object");
      for (const auto& [key, value] : entry.items())
        if (value.is_string()) checkpoint.metadata_[key] = value.get<std::string>();
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      fail("tensor '" + name + "' lacks dtype, shape or data_offsets");
    TensorRecord record;
    if (!entry["dtype"].is_string() || !parse_dtype(entry["dtype"].get<std::string>(), record.dtype))
      fail("tensor '" + name + "' has unknown dtype " + entry["dtype"].dump());
    uint64_t count = 1;
    for (const auto& dim : entry["shape"]) {
      if (!dim.is_number_unsigned()) fail("tensor '" + name + "' has a shape entry that is not a size: " + entry["shape"].dump());
      const uint64_t size = dim.get<uint64_t>();
      if (size != 0 && count > (uint64_t(1) << 48) / size) fail("tensor '" + name + "' has an impossible shape " + entry["shape"].dump());
      count *= size;
      record.shape.push_back(static_cast<int64_t>(size));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      fail("tensor '" + name + "' has malformed data_offsets " + offsets.dump());
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail("truncated: tensor '" + name + "' data [" + std::to_string(begin) + ", " + std::to_string(end) +
           ") runs past the end of the data (" + std::to_string(data_size) + " bytes)");
    if (end - begin != count * dtype_size(record.dtype))
      fail("tensor '" + name + "' has " + std::to_string(end - begin) + " bytes, but shape " + entry["shape"].dump() +
           " of " + dtype_name(record.dtype) + " needs " + std::to_string(count * dtype_size(record.dtype)));
    record.data = bytes.data() + data_begin + begin;
    record.nbytes = end - begin;
    checkpoint.tensors_[name] = std::move(record);
  }
}

}  // namespace vkvision::io
