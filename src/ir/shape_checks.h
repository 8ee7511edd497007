// What an op's shape inference uses to refuse a layer whose parameters or inputs do not fit: each
// throws InputError naming the layer and its op, e.g. "layer 'stages.0.0.fc1' (linear): bias has 96
// values, expected 384" (a checkpoint that does not fit the structure the builder gave it).
#pragma once
#include <string>

#include "ir/layer_list.h"

namespace vkvision::ir {

[[noreturn]] void shape_error(const Layer& layer, const std::string& problem);
// The parameter `role` has exactly `expected` as its shape.
void expect_param_shape(const Layer& layer, const std::string& role, const Shape& expected);
// The parameter `role` has `size` values (any shape); with `optional`, it may also be absent.
void expect_vector(const Layer& layer, const std::string& role, int64_t size, bool optional = false);
// The input is a feature map [N, H, W, C].
void expect_feature_map(const Layer& layer, const Shape& input);

}  // namespace vkvision::ir
