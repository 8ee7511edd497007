// The Python module's parts (python/vkvision/__init__.py re-exports them): one registration function
// per file, called in this order by module.cpp.
#pragma once
#include <pybind11/pybind11.h>

namespace vkvision::python {

void bind_errors(pybind11::module_& module);
void bind_devices(pybind11::module_& module);
void bind_models(pybind11::module_& module);
void bind_sessions(pybind11::module_& module);

}  // namespace vkvision::python
