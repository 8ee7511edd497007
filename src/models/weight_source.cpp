#include "models/weight_source.h"

#include <bit>
#include <cstdint>

#include "vkvision/error.h"

namespace vkvision::models {

WeightSource WeightSource::from_checkpoint(const io::Checkpoint& checkpoint) {
  WeightSource source;
  source.checkpoint_ = &checkpoint;
  source.metadata_ = checkpoint.metadata();
  source.origin_ = checkpoint.path().string();
  return source;
}

WeightSource WeightSource::from_checkpoint(std::shared_ptr<const io::Checkpoint> checkpoint) {
  WeightSource source = from_checkpoint(*checkpoint);
  source.shared_checkpoint_ = std::move(checkpoint);
  return source;
}

WeightSource WeightSource::from_tensors(std::map<std::string, ir::HostTensor> tensors, std::string origin) {
  WeightSource source;
  source.tensors_ = std::move(tensors);
  source.origin_ = std::move(origin);
  return source;
}

bool WeightSource::contains(const std::string& name) const {
  return checkpoint_ ? checkpoint_->contains(name) : tensors_.count(name) != 0;
}

std::vector<std::string> WeightSource::names() const {
  if (checkpoint_) return checkpoint_->names();
  std::vector<std::string> names;
  for (const auto& [name, tensor] : tensors_) names.push_back(name);
  return names;
}

void WeightSource::fail(const std::string& problem) const { throw InputError(origin_ + ": " + problem); }

const std::vector<int64_t>& WeightSource::shape(const std::string& name) const {
  if (!contains(name)) fail("missing tensor '" + name + "'");
  return checkpoint_ ? checkpoint_->at(name).shape : tensors_.at(name).shape;
}

int64_t WeightSource::dim(const std::string& name, size_t axis) const {
  const auto& dims = shape(name);
  if (axis >= dims.size())
    fail("tensor '" + name + "' has shape " + ir::shape_string(dims) + ", expected at least " + std::to_string(axis + 1) +
         " dimensions");
  return dims[axis];
}

ir::HostTensor WeightSource::get(const std::string& name) const {
  if (!contains(name)) fail("missing tensor '" + name + "'");
  if (!checkpoint_) return tensors_.at(name);
  const io::TensorRecord& record = checkpoint_->at(name);
  const bool aligned = reinterpret_cast<uintptr_t>(record.data) % alignof(float) == 0;
  if (shared_checkpoint_ && record.dtype == io::DType::F32 && aligned && std::endian::native == std::endian::little)
    return ir::HostTensor::view(record.shape, shared_checkpoint_, reinterpret_cast<const float*>(record.data));
  return ir::HostTensor::from(record.shape, checkpoint_->to_float(name));
}

ir::HostTensor WeightSource::get(const std::string& name, const ir::Shape& expected) const {
  if (shape(name) != expected)
    fail("tensor '" + name + "' has shape " + ir::shape_string(shape(name)) + ", expected " + ir::shape_string(expected));
  return get(name);
}

}  // namespace vkvision::models
