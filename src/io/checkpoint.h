// Reads model weights from the files users have: safetensors and PyTorch's torch.save zip format
// (.pth / .bin). Tensors are memory-mapped and read in place where the file layout allows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vkvision::io {

enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

// One tensor of a checkpoint: contiguous row-major bytes inside the mapped file (or owned by the
// checkpoint when the file stored it with non-contiguous strides).
// Readers guarantee numel() * dtype_size() == nbytes with no overflow, and that data[0, nbytes) lies
// inside the file or an owned copy.
struct TensorRecord {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const;
};

class MappedFile;

class Checkpoint {
 public:
  // Detects the format from the file's first bytes. Throws vkvision::InputError naming the file
  // and the problem for anything unreadable, truncated or malformed.
  static Checkpoint load(const std::filesystem::path& path);
  // The same for bytes already in memory, named `path` in messages (fuzz targets, tests).
  static Checkpoint parse(const std::filesystem::path& path, std::vector<std::byte> bytes);

  const std::filesystem::path& path() const { return path_; }
  // "safetensors" or "torch-zip".
  const std::string& format() const { return format_; }
  // Names with wrappers removed: a dict nested under 'model', 'state_dict' or 'model_ema' (first
  // found, in that order) is unwrapped, and a leading 'module.' on every name is stripped.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // Throws InputError("<file>: missing tensor '<name>'") when absent.
  const TensorRecord& at(const std::string& name) const;
  // Converts any floating or integer dtype to float32.
  std::vector<float> to_float(const std::string& name) const;
  // safetensors "__metadata__" string map (empty for torch files).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::filesystem::path path_;
  std::string format_;
  std::shared_ptr<MappedFile> file_;
  std::vector<std::shared_ptr<std::vector<std::byte>>> owned_;  // copies of strided tensors
  std::map<std::string, TensorRecord> tensors_;
  std::map<std::string, std::string> metadata_;

  static Checkpoint read(std::shared_ptr<MappedFile> file);
  // Adds a tensor; refuses a name with control bytes and a second tensor of the same name.
  void add_tensor(const std::string& name, TensorRecord record);

  friend class SafetensorsReader;
  friend class TorchZipReader;
};

}  // namespace vkvision::io
