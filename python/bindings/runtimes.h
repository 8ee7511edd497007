// The runtime a Session(device=...) argument names: a Runtime, a device index, or None (the
// default device: VKVISION_DEVICE, else 0). Sessions given the same index share one runtime (and
// its pipeline cache) for as long as any of them lives.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>

#include "vkvision/vkvision.h"

namespace vkvision::python {

std::shared_ptr<Runtime> runtime_for(const pybind11::object& device);

}  // namespace vkvision::python
