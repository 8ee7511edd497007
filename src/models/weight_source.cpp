#include "models/weight_source.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

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
    fail("tensor '" + name + "' has shape " + ir::shape_string(dims) + ", expected at least " +
         std::to_string(axis + 1) + " dimensions");
  return dims[axis];
}

std::vector<std::string> WeightSource::unread_names() const {
  std::vector<std::string> unread;
  for (std::string& name : names())
    if (!read_.count(name)) unread.push_back(std::move(name));
  return unread;
}

ir::HostTensor WeightSource::get(const std::string& name) const {
  if (!contains(name)) fail("missing tensor '" + name + "'");
  read_.insert(name);
  if (!checkpoint_) return tensors_.at(name);
  const io::TensorRecord& record = checkpoint_->at(name);
  const bool aligned = reinterpret_cast<uintptr_t>(record.data) % alignof(float) == 0;
  if (shared_checkpoint_ && record.dtype == io::DType::F32 && aligned &&
      std::endian::native == std::endian::little)
    return ir::HostTensor::view(record.shape, shared_checkpoint_,
                                reinterpret_cast<const float*>(record.data));
  return ir::HostTensor::from(record.shape, checkpoint_->to_float(name));
}

ir::HostTensor WeightSource::get(const std::string& name, const ir::Shape& expected, const Init&) const {
  if (shape(name) != expected)
    fail("tensor '" + name + "' has shape " + ir::shape_string(shape(name)) + ", expected " +
         ir::shape_string(expected));
  return get(name);
}

Init Init::batch_norm(const std::string& role) {
  if (role == "weight" || role == "running_var") return uniform(0.5f, 1.5f);
  return normal(0.1f);  // bias, running_mean
}

std::vector<std::string> RandomWeightSource::names() const {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : made_) names.push_back(name);
  return names;
}

ir::HostTensor RandomWeightSource::get(const std::string& name) const {
  auto it = made_.find(name);
  if (it == made_.end()) fail("missing tensor '" + name + "'");
  return it->second;
}

const std::vector<int64_t>& RandomWeightSource::shape(const std::string& name) const {
  auto it = made_.find(name);
  if (it == made_.end()) fail("missing tensor '" + name + "'");
  return it->second.shape;
}

ir::HostTensor RandomWeightSource::get(const std::string& name, const ir::Shape& expected,
                                       const Init& init) const {
  if (auto it = made_.find(name); it != made_.end()) {
    if (it->second.shape != expected)
      fail("tensor '" + name + "' asked for as " + ir::shape_string(expected) + " after " +
           ir::shape_string(it->second.shape));
    return it->second;
  }
  // FNV-1a of the name, with the seed, seeds this tensor's own generator.
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
  std::seed_seq sequence{seed_, uint32_t(hash), uint32_t(hash >> 32)};
  std::mt19937 generator(sequence);
  const int64_t count = ir::shape_numel(expected);
  std::vector<float> values(count);
  switch (init.kind) {
    case Init::Kind::Normal: {
      const float fan_in = expected.empty() || expected[0] == 0 ? 1.0f : float(count / expected[0]);
      std::normal_distribution<float> distribution(0.0f, init.a != 0 ? init.a : 1.0f / std::sqrt(fan_in));
      for (auto& v : values) v = distribution(generator);
      break;
    }
    case Init::Kind::Uniform: {
      std::uniform_real_distribution<float> distribution(init.a, init.b);
      for (auto& v : values) v = distribution(generator);
      break;
    }
    case Init::Kind::Constant: std::fill(values.begin(), values.end(), init.a); break;
    case Init::Kind::Values:
      if (int64_t(init.values.size()) != count)
        fail("tensor '" + name + "' is given " + std::to_string(init.values.size()) + " values for shape " +
             ir::shape_string(expected));
      values = init.values;
      break;
  }
  return made_[name] = ir::HostTensor::from(expected, std::move(values));
}

}  // namespace vkvision::models
