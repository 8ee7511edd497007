// numpy arguments checked as the C++ API needs them, with TypeError (wrong type or dtype) and
// ValueError (wrong shape) messages that name what was expected; and vectors handed to numpy
// without a copy.
#pragma once
#include <pybind11/numpy.h>

#include <string>
#include <vector>

#include "vkvision/image.h"

namespace vkvision::python {

// A float32 array of exactly `shape`, C-contiguous: the caller's own memory when it already is one
// (no copy), else a contiguous copy. `what` names the argument in messages ("Session.run: input").
pybind11::array_t<float> float32_array(const pybind11::handle& value,
                                       const std::vector<pybind11::ssize_t>& shape, const std::string& what);

// Decoded pixels from a uint8 array of shape (H, W) or (H, W, 1|3).
Image image_from_array(const pybind11::handle& value, const std::string& what);

// The vector's data as an array of `shape` that owns it.
pybind11::array_t<float> to_array(std::vector<float>&& values, const std::vector<pybind11::ssize_t>& shape);
pybind11::array_t<uint8_t> to_array(std::vector<uint8_t>&& values,
                                    const std::vector<pybind11::ssize_t>& shape);

}  // namespace vkvision::python
