// vkvision._vkvision: the compiled half of `import vkvision`.
#include "bindings.h"
#include "vkvision/version.h"

PYBIND11_MODULE(_vkvision, module) {
  module.doc() = "vkvision: image classifiers on any Vulkan device (the compiled module)";
  module.attr("__version__") = vkvision::version();
  vkvision::python::bind_errors(module);
  vkvision::python::bind_devices(module);
  vkvision::python::bind_models(module);
  vkvision::python::bind_sessions(module);
}
