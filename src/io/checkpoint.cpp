#include "io/checkpoint.h"

#include <cstring>

#include "io/checkpoint_readers.h"
#include "io/mapped_file.h"
#include "io/untrusted.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int shift = 0;
      uint32_t m = mantissa;
      while (!(m & 0x400)) m <<= 1, ++shift;
      bits = sign | uint32_t(127 - 15 - shift + 1) << 23 | (m & 0x3FF) << 13;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7F800000u | mantissa << 13;
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
T read_as(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    default: return 1;
  }
}

int64_t TensorRecord::numel() const {
  // Readers checked the product against the file; it fits.
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

Checkpoint Checkpoint::load(const std::filesystem::path& path) {
  return read(std::make_shared<MappedFile>(path));
}

Checkpoint Checkpoint::parse(const std::filesystem::path& path, std::vector<std::byte> bytes) {
  return read(std::make_shared<MappedFile>(path, std::move(bytes)));
}

void Checkpoint::add_tensor(const std::string& name, TensorRecord record) {
  if (!is_printable_name(name))
    throw InputError(path_.string() + ": tensor name '" + printable(name) + "' holds control bytes");
  if (!tensors_.emplace(name, std::move(record)).second)
    throw InputError(path_.string() + ": tensor '" + printable(name) + "' appears twice");
}

Checkpoint Checkpoint::read(std::shared_ptr<MappedFile> file) {
  const std::filesystem::path path = file->path();
  Checkpoint checkpoint;
  checkpoint.path_ = path;
  checkpoint.file_ = std::move(file);
  const auto bytes = checkpoint.file_->bytes();
  const bool zip = bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0;
  if (zip) {
    checkpoint.format_ = "torch-zip";
    TorchZipReader::read(checkpoint);
  } else if (looks_like_safetensors(bytes) || (bytes.size() >= 8 && bytes.size() < 10)) {
    checkpoint.format_ = "safetensors";
    SafetensorsReader::read(checkpoint);
  } else if (bytes.size() >= 2 && std::to_integer<uint8_t>(bytes[0]) == 0x80 &&
             std::to_integer<uint8_t>(bytes[1]) <= 5) {
    throw InputError(path.string() +
                     ": legacy (pre-1.6) torch serialization; re-save it with torch.save in torch >= 1.6");
  } else {
    throw InputError(path.string() + ": not a safetensors or PyTorch zip checkpoint");
  }
  if (checkpoint.tensors_.empty()) throw InputError(path.string() + ": holds no tensors");
  // DistributedDataParallel saves every name under 'module.'.
  bool wrapped = true;
  for (const auto& [name, record] : checkpoint.tensors_) wrapped = wrapped && name.rfind("module.", 0) == 0;
  if (wrapped) {
    std::map<std::string, TensorRecord> stripped;
    for (auto& [name, record] : checkpoint.tensors_) stripped[name.substr(7)] = std::move(record);
    checkpoint.tensors_ = std::move(stripped);
  }
  return checkpoint;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> names;
  for (const auto& [name, record] : tensors_) names.push_back(name);
  return names;
}

bool Checkpoint::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorRecord& Checkpoint::at(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw InputError(path_.string() + ": missing tensor '" + name + "'");
  return it->second;
}

std::vector<float> Checkpoint::to_float(const std::string& name) const {
  const TensorRecord& record = at(name);
  const size_t count = static_cast<size_t>(record.numel()), size = dtype_size(record.dtype);
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) {
    const std::byte* p = record.data + i * size;
    switch (record.dtype) {
      case DType::F32: values[i] = read_as<float>(p); break;
      case DType::F16: values[i] = half_to_float(read_as<uint16_t>(p)); break;
      case DType::BF16: {
        const uint32_t bits = uint32_t(read_as<uint16_t>(p)) << 16;
        std::memcpy(&values[i], &bits, 4);
        break;
      }
      case DType::F64: values[i] = float(read_as<double>(p)); break;
      case DType::I64: values[i] = float(read_as<int64_t>(p)); break;
      case DType::I32: values[i] = float(read_as<int32_t>(p)); break;
      case DType::I16: values[i] = float(read_as<int16_t>(p)); break;
      case DType::I8: values[i] = float(read_as<int8_t>(p)); break;
      case DType::U8:
      case DType::Bool: values[i] = float(read_as<uint8_t>(p)); break;
    }
  }
  return values;
}

}  // namespace vkvision::io
