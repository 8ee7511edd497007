// vkvision's errors as Python exceptions carrying the library's one-line message:
//   vkvision.Error(RuntimeError)          every error the library raises
//   vkvision.InputError(Error, ValueError) bad files, shapes or names (the CLI's exit code 2)
//   vkvision.DeviceError(Error)           the device failed or cannot do it (exit code 3)
// Wrong argument types and shapes raise plain TypeError and ValueError (array_arguments.cpp).
#include <Python.h>

#include "bindings.h"
#include "vkvision/error.h"

namespace py = pybind11;

namespace vkvision::python {
namespace {

// Owned by the module for the interpreter's life; the translator below only borrows them.
PyObject* error_type = nullptr;
PyObject* input_error_type = nullptr;
PyObject* device_error_type = nullptr;

PyObject* add_exception(py::module_& module, const char* name, const char* doc, py::tuple bases) {
  const std::string qualified = std::string("vkvision.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  module.add_object(name, py::reinterpret_borrow<py::object>(type));
  return type;
}

}  // namespace

void bind_errors(py::module_& module) {
  error_type = add_exception(module, "Error", "Base of every error vkvision raises.",
                             py::make_tuple(py::handle(PyExc_RuntimeError)));
  input_error_type = add_exception(
      module, "InputError", "Bad input: an unreadable or malformed file, a shape or name no model takes.",
      py::make_tuple(py::handle(error_type), py::handle(PyExc_ValueError)));
  device_error_type = add_exception(module, "DeviceError",
                                    "The Vulkan device failed or cannot do what was asked (limits, memory).",
                                    py::make_tuple(py::handle(error_type)));
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const vkvision::InputError& error) {
      PyErr_SetString(input_error_type, error.what());
    } catch (const vkvision::DeviceError& error) {
      PyErr_SetString(device_error_type, error.what());
    } catch (const vkvision::Error& error) {
      PyErr_SetString(error_type, error.what());
    }
  });
}

}  // namespace vkvision::python
