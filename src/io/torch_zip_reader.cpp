// PyTorch's torch.save format (since 1.6): a ZIP archive whose entries are STORED (uncompressed):
// <archive>/data.pkl (the pickled object) and <archive>/data/<key> (raw little-endian storages).
// Tensors point straight into the mapped file; only non-contiguous views are copied.
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include "io/checkpoint.h"
#include "io/checkpoint_readers.h"
#include "io/mapped_file.h"
#include "io/pickle.h"
#include "io/untrusted.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

struct ZipEntry {
  uint64_t offset = 0;  // of the data
  uint64_t size = 0;
};

class ZipIndex {
 public:
  ZipIndex(std::span<const std::byte> bytes, const std::string& file) : bytes_(bytes), file_(file) {
    // End of central directory: 22 bytes + comment (at most 65535), scanned from the end.
    const uint64_t size = bytes.size();
    if (size < 22) fail("truncated: too short for a ZIP archive");
    int64_t eocd = -1;
    for (int64_t at = int64_t(size) - 22; at >= 0 && at >= int64_t(size) - 22 - 65535; --at)
      if (read(at, 4) == 0x06054b50) {
        eocd = at;
        break;
      }
    if (eocd < 0) fail("truncated: ZIP end-of-central-directory record not found");
    uint64_t count = read(eocd + 10, 2), directory_size = read(eocd + 12, 4), directory = read(eocd + 16, 4);
    // ZIP64: the real values live in the ZIP64 end record named by the locator just before.
    if ((count == 0xFFFF || directory == 0xFFFFFFFF) && eocd >= 20 && read(eocd - 20, 4) == 0x07064b50) {
      const uint64_t record = read(eocd - 20 + 8, 8);
      if (!range_inside(record, 56, size) || read(record, 4) != 0x06064b50) fail("corrupt ZIP64 end record");
      count = read(record + 32, 8);
      directory_size = read(record + 40, 8);
      directory = read(record + 48, 8);
    }
    if (directory > size || directory_size > size - directory)
      fail("truncated: ZIP central directory runs past the end");
    uint64_t at = directory;
    for (uint64_t i = 0; i < count; ++i) {
      if (read(at, 4) != 0x02014b50) fail("corrupt ZIP central directory entry " + std::to_string(i));
      const uint64_t method = read(at + 10, 2), name_length = read(at + 28, 2),
                     extra_length = read(at + 30, 2), comment_length = read(at + 32, 2);
      uint64_t compressed = read(at + 20, 4), uncompressed = read(at + 24, 4), local = read(at + 42, 4);
      const std::string name = text(at + 46, name_length);
      // ZIP64 extended information (id 1): the 0xFFFFFFFF fields, in order, inside the field's length.
      const uint64_t extra_end = at + 46 + name_length + extra_length;
      for (uint64_t extra = at + 46 + name_length; extra + 4 <= extra_end;) {
        const uint64_t id = read(extra, 2), length = read(extra + 2, 2);
        if (extra + 4 + length > extra_end)
          fail("corrupt ZIP extra field in the entry for '" + printable(name) + "'");
        if (id == 1) {
          uint64_t field = extra + 4;
          auto next = [&] {
            if (field + 8 > extra + 4 + length)
              fail("ZIP64 extra field too short in the entry for '" + printable(name) + "'");
            field += 8;
            return read(field - 8, 8);
          };
          if (uncompressed == 0xFFFFFFFF) uncompressed = next();
          if (compressed == 0xFFFFFFFF) compressed = next();
          if (local == 0xFFFFFFFF) local = next();
        }
        extra += 4 + length;
      }
      if (method != 0)
        fail("entry '" + printable(name) + "' is compressed (method " + std::to_string(method) +
             "); torch.save writes stored entries: re-save the checkpoint with torch.save");
      if (read(local, 4) != 0x04034b50) fail("corrupt ZIP local header for '" + printable(name) + "'");
      const uint64_t data = local + 30 + read(local + 26, 2) + read(local + 28, 2);
      if (data > size || uncompressed > size - data)
        fail("truncated: entry '" + printable(name) + "' ends at byte " +
             std::to_string(data + uncompressed) + ", past the end of the file (" + std::to_string(size) +
             " bytes)");
      entries_[name] = {data, uncompressed};
      at += 46 + name_length + extra_length + comment_length;
    }
  }

  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  std::span<const std::byte> data(const ZipEntry& entry) const {
    return bytes_.subspan(entry.offset, entry.size);
  }
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(file_ + ": " + problem); }

 private:
  uint64_t read(uint64_t at, uint64_t n) const {
    if (at > bytes_.size() || n > bytes_.size() - at)
      fail("truncated: ZIP structure runs past the end of the file");
    uint64_t v = 0;
    for (uint64_t i = n; i-- > 0;) v = (v << 8) | std::to_integer<uint8_t>(bytes_[at + i]);
    return v;
  }
  std::string text(uint64_t at, uint64_t n) const {
    read(at, n ? n : 0);
    return std::string(reinterpret_cast<const char*>(bytes_.data() + at), n);
  }

  std::span<const std::byte> bytes_;
  std::string file_;
  std::map<std::string, ZipEntry> entries_;
};

bool storage_dtype(const std::string& type, DType& dtype) {
  static const std::map<std::string, DType> table = {
      {"FloatStorage", DType::F32},  {"HalfStorage", DType::F16}, {"BFloat16Storage", DType::BF16},
      {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16},  {"CharStorage", DType::I8},  {"ByteStorage", DType::U8},
      {"BoolStorage", DType::Bool}};
  auto it = table.find(type);
  if (it == table.end()) return false;
  dtype = it->second;
  return true;
}

const pickle::Dict* as_dict(const pickle::Value& value) { return std::get_if<pickle::Dict>(&value.data); }

bool holds_tensors(const pickle::Dict& dict) {
  for (const auto& [key, value] : dict.items)
    if (std::holds_alternative<pickle::Tensor>(value->data)) return true;
  return false;
}

// torch.save(model.state_dict()) or a training checkpoint wrapping it: {'model': ...},
// {'state_dict': ...} or {'model_ema': ...}, first found in that order.
const pickle::Dict* find_state_dict(const pickle::Dict& root) {
  for (const char* wrapper : {"model", "state_dict", "model_ema"})
    for (const auto& [key, value] : root.items)
      if (auto* name = std::get_if<std::string>(&key->data); name && *name == wrapper)
        if (const pickle::Dict* inner = as_dict(*value); inner && holds_tensors(*inner)) return inner;
  return holds_tensors(root) ? &root : nullptr;
}

// Where a view [offset, shape, stride] of a storage reads: its element count and one past the
// furthest element it reaches, in checked unsigned arithmetic (nullopt where either passes 2^64).
struct ViewExtent {
  std::optional<uint64_t> count, end;
  bool contiguous = true;
};

ViewExtent view_extent(const pickle::Tensor& tensor) {
  ViewExtent extent;
  std::optional<uint64_t> count = 1, last = uint64_t(tensor.offset), contiguous_stride = 1;
  bool empty = false;
  for (size_t d = tensor.shape.size(); d-- > 0;) {
    const uint64_t size = uint64_t(tensor.shape[d]), stride = uint64_t(tensor.stride[d]);
    if (size == 0) empty = true;
    if (count) count = checked_mul(*count, size);
    if (size > 0 && last) {
      const auto step = checked_mul(size - 1, stride);
      last = step ? checked_add(*last, *step) : std::nullopt;
    }
    if (size != 1 && (!contiguous_stride || stride != *contiguous_stride)) extent.contiguous = false;
    if (contiguous_stride) contiguous_stride = checked_mul(*contiguous_stride, size);
  }
  extent.count = count;
  if (empty)
    extent.end = uint64_t(tensor.offset);
  else if (last)
    extent.end = checked_add(*last, 1);
  return extent;
}

}  // namespace

void TorchZipReader::read(Checkpoint& checkpoint) {
  const std::string file = checkpoint.path_.string();
  const auto bytes = checkpoint.file_->bytes();
  ZipIndex zip(bytes, file);
  std::string prefix;
  const ZipEntry* pickle_entry = nullptr;
  for (const auto& [name, entry] : zip.entries())
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, "data.pkl") == 0 &&
        (name.size() == 8 || name[name.size() - 9] == '/')) {
      prefix = name.substr(0, name.size() - 8);
      pickle_entry = &entry;
      break;
    }
  if (!pickle_entry) zip.fail("ZIP archive without data.pkl: not a torch.save checkpoint");
  pickle::Document document;
  try {
    document = pickle::load(zip.data(*pickle_entry));
  } catch (const std::runtime_error& error) {
    zip.fail(std::string("cannot read data.pkl: ") + printable(error.what()));
  }
  const pickle::Dict* top = as_dict(document.root());
  const pickle::Dict* state = top ? find_state_dict(*top) : nullptr;
  if (!state)
    zip.fail(
        "holds no state dict of tensors (looked in the top level and under 'model', 'state_dict', "
        "'model_ema')");

  // Strided views are copied; all copies together may not outgrow the file (a stride-0 view can
  // claim any size from one stored element).
  uint64_t copied_bytes = 0;
  for (const auto& [key, value] : state->items) {
    const auto* name = std::get_if<std::string>(&key->data);
    const auto* tensor = std::get_if<pickle::Tensor>(&value->data);
    if (!name || !tensor) continue;  // non-tensor entries (e.g. version counters) are not weights
    const std::string quoted = "'" + printable(*name) + "'";
    TensorRecord record;
    if (!storage_dtype(tensor->storage.type, record.dtype))
      zip.fail("tensor " + quoted + " has unsupported storage type " + printable(tensor->storage.type));
    auto entry = zip.entries().find(prefix + "data/" + tensor->storage.key);
    if (entry == zip.entries().end())
      zip.fail("tensor " + quoted + " refers to missing storage data/" + printable(tensor->storage.key));
    const auto storage = zip.data(entry->second);
    const uint64_t element = dtype_size(record.dtype), storage_elements = storage.size() / element;
    if (tensor->shape.size() > 16)
      zip.fail("tensor " + quoted + " has " + std::to_string(tensor->shape.size()) + " dimensions");
    if (tensor->offset < 0) zip.fail("tensor " + quoted + " has a negative storage offset");
    for (size_t d = 0; d < tensor->shape.size(); ++d)
      if (tensor->shape[d] < 0 || tensor->stride[d] < 0)
        zip.fail("tensor " + quoted + " has a negative size or stride");
    const ViewExtent extent = view_extent(*tensor);
    if (!extent.end || *extent.end > storage_elements)
      zip.fail("truncated: tensor " + quoted + " reaches element " +
               (extent.end ? std::to_string(*extent.end - 1) : "past 2^64") + " of a storage of " +
               std::to_string(storage_elements) + " elements");
    const std::optional<uint64_t> nbytes = extent.count ? checked_mul(*extent.count, element) : std::nullopt;
    if (!nbytes) zip.fail("tensor " + quoted + " has more than 2^64 bytes");
    record.shape = tensor->shape;
    record.nbytes = *nbytes;
    if (extent.contiguous || *extent.count == 0) {
      record.data = storage.data() + uint64_t(tensor->offset) * element;
    } else {
      if (*nbytes > bytes.size() - copied_bytes)
        zip.fail("tensor " + quoted + " is a strided view of " + std::to_string(*nbytes) +
                 " bytes; copying the views would take more than the file's " + std::to_string(bytes.size()) +
                 " bytes");
      copied_bytes += *nbytes;
      auto owned = std::make_shared<std::vector<std::byte>>(*nbytes);
      // Every index below is bounded by the extent checked above.
      std::vector<uint64_t> index(tensor->shape.size(), 0);
      for (uint64_t i = 0; i < *extent.count; ++i) {
        uint64_t source = uint64_t(tensor->offset);
        for (size_t d = 0; d < index.size(); ++d) source += index[d] * uint64_t(tensor->stride[d]);
        std::memcpy(owned->data() + i * element, storage.data() + source * element, element);
        for (size_t d = index.size(); d-- > 0;) {
          if (++index[d] < uint64_t(tensor->shape[d])) break;
          index[d] = 0;
        }
      }
      record.data = owned->data();
      checkpoint.owned_.push_back(std::move(owned));
    }
    checkpoint.add_tensor(*name, std::move(record));
  }
}

}  // namespace vkvision::io
