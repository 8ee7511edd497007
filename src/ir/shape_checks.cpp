#include "ir/shape_checks.h"

#include "vkvision/error.h"

namespace vkvision::ir {

void shape_error(const Layer& layer, const std::string& problem) {
  throw InputError("layer '" + layer.name + "' (" + op_name(layer.op) + "): " + problem);
}

void expect_param_shape(const Layer& layer, const std::string& role, const Shape& expected) {
  const HostTensor& tensor = layer.param(role);
  if (tensor.shape != expected)
    shape_error(layer,
                role + " has shape " + shape_string(tensor.shape) + ", expected " + shape_string(expected));
}

void expect_vector(const Layer& layer, const std::string& role, int64_t size, bool optional) {
  if (optional && !layer.has_param(role)) return;
  const HostTensor& tensor = layer.param(role);
  if (tensor.numel() != size)
    shape_error(
        layer, role + " has " + std::to_string(tensor.numel()) + " values, expected " + std::to_string(size));
}

void expect_feature_map(const Layer& layer, const Shape& input) {
  if (input.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(input));
}

}  // namespace vkvision::ir
