// Named weights a family builder reads: from a checkpoint file, or generated for a preset.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/layer_list.h"
#include "io/checkpoint.h"

namespace vkvision::models {

class WeightSource {
 public:
  // Copies every tensor it returns to float32 (the checkpoint need only outlive the builder).
  static WeightSource from_checkpoint(const io::Checkpoint& checkpoint);
  // Returns float32 tensors stored contiguously and aligned as views into the file's mapping, which
  // they keep alive: no copy, and pages the kernel may drop and re-read (other dtypes are converted).
  static WeightSource from_checkpoint(std::shared_ptr<const io::Checkpoint> checkpoint);
  static WeightSource from_tensors(std::map<std::string, ir::HostTensor> tensors, std::string origin);

  // Where the weights came from (the file path, or "preset NAME"): every error starts with it.
  const std::string& origin() const { return origin_; }
  bool contains(const std::string& name) const;
  std::vector<std::string> names() const;
  // Throws InputError("<origin>: missing tensor '<name>'").
  ir::HostTensor get(const std::string& name) const;
  // Throws InputError naming the tensor when its shape differs.
  ir::HostTensor get(const std::string& name, const ir::Shape& expected) const;
  const std::vector<int64_t>& shape(const std::string& name) const;
  // shape(name)[axis], or InputError naming the tensor when it has too few dimensions (family
  // detection reads sizes from tensors whose rank a stranger's file chose).
  int64_t dim(const std::string& name, size_t axis) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  [[noreturn]] void fail(const std::string& problem) const;

 private:
  const io::Checkpoint* checkpoint_ = nullptr;
  std::shared_ptr<const io::Checkpoint> shared_checkpoint_;  // set when tensors may be views
  std::map<std::string, ir::HostTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  std::string origin_;
};

}  // namespace vkvision::models
