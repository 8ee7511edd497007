// vkvision.devices(), vkvision.Device (DeviceInfo) and vkvision.Runtime.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <map>
#include <mutex>

#include "bindings.h"
#include "runtimes.h"

namespace py = pybind11;

namespace vkvision::python {
namespace {

std::string describe(const DeviceInfo& info) {
  std::string text = "<vkvision.Device " + std::to_string(info.index) + ": " + info.name + " (" + info.type +
                     ", Vulkan " + info.api_version_string() + ", " + info.driver_name + ")";
  if (!info.unsupported_reason.empty()) text += " unsupported: " + info.unsupported_reason;
  return text + ">";
}

std::shared_ptr<Runtime> create_runtime(int device_index, bool validation, uint64_t device_memory_budget,
                                        const std::filesystem::path& cache_directory, bool disk_cache) {
  DeviceOptions options;
  options.device_index = device_index;
  options.validation = validation;
  options.device_memory_budget = device_memory_budget;
  options.cache_directory = cache_directory;
  options.disk_cache = disk_cache;
  py::gil_scoped_release release;
  return Runtime::create(options);
}

}  // namespace

std::shared_ptr<Runtime> runtime_for(const py::object& device) {
  if (py::isinstance<Runtime>(device)) return device.cast<std::shared_ptr<Runtime>>();
  if (!device.is_none() && (!py::isinstance<py::int_>(device) || py::isinstance<py::bool_>(device)))
    throw py::type_error("device must be None, a device index (int) or a vkvision.Runtime, not " +
                         std::string(py::str(device.get_type().attr("__name__"))));
  const int index = device.is_none() ? -1 : device.cast<int>();
  if (index < -1) throw py::value_error("device index " + std::to_string(index) + " is negative");
  // Guarded by the GIL, which every caller holds; weak, so the last session closes the device.
  static std::map<int, std::weak_ptr<Runtime>> shared;
  if (auto runtime = shared[index].lock()) return runtime;
  auto runtime = create_runtime(index, false, 0, {}, true);
  shared[index] = runtime;
  return runtime;
}

void bind_devices(py::module_& module) {
  py::class_<DeviceInfo>(module, "Device", "A Vulkan device's properties, as vkvision queried them.")
      .def_readonly("index", &DeviceInfo::index)
      .def_readonly("name", &DeviceInfo::name)
      .def_readonly("type", &DeviceInfo::type, "'discrete GPU', 'integrated GPU', 'CPU', ...")
      .def_readonly("driver_name", &DeviceInfo::driver_name)
      .def_readonly("driver_info", &DeviceInfo::driver_info)
      .def_property_readonly("api_version", &DeviceInfo::api_version_string, "e.g. '1.3.255'")
      .def_readonly("driver_version", &DeviceInfo::driver_version, "as the driver encodes it")
      .def_readonly("vendor_id", &DeviceInfo::vendor_id)
      .def_readonly("device_id", &DeviceInfo::device_id)
      .def_readonly("subgroup_size", &DeviceInfo::subgroup_size)
      .def_readonly("shader_float16", &DeviceInfo::shader_float16)
      .def_readonly("storage_buffer_16bit", &DeviceInfo::storage_buffer_16bit)
      .def_readonly("timestamps", &DeviceInfo::timestamps)
      .def_readonly("unified_memory", &DeviceInfo::unified_memory)
      .def_readonly("device_local_bytes", &DeviceInfo::device_local_bytes)
      .def_readonly("max_storage_buffer_range", &DeviceInfo::max_storage_buffer_range)
      .def_readonly("unsupported_reason", &DeviceInfo::unsupported_reason,
                    "empty when vkvision can run on the device, else what it lacks")
      .def_property_readonly("usable", [](const DeviceInfo& info) { return info.unsupported_reason.empty(); })
      .def("__repr__", &describe);

  module.def(
      "devices",
      [] {
        py::gil_scoped_release release;
        return list_devices();
      },
      "Every Vulkan device the loader reports, those vkvision cannot use with their unsupported_reason.");

  py::class_<Runtime, std::shared_ptr<Runtime>>(
      module, "Runtime",
      "An open Vulkan device with its pipeline cache; share one between sessions and threads.\n"
      "Session(device=N) opens (and shares) one itself; make one to choose validation, a memory\n"
      "budget or the cache directory.")
      .def(py::init(&create_runtime), py::arg("device") = -1, py::arg("validation") = false,
           py::arg("device_memory_budget") = 0, py::arg("cache_directory") = std::filesystem::path(),
           py::arg("disk_cache") = true,
           "device -1: VKVISION_DEVICE, else 0. validation: the Khronos layer (also VKVISION_VALIDATION=1).")
      .def_property_readonly("device", &Runtime::device, py::return_value_policy::reference_internal)
      .def("validation_messages", &Runtime::validation_messages,
           "Validation messages seen so far (with validation on; else empty).")
      .def("__repr__",
           [](const Runtime& runtime) { return "<vkvision.Runtime on " + runtime.device().name + ">"; });
}

}  // namespace vkvision::python
