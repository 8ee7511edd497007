// vkvision.Model (load/preset), its info, and vkvision.models() (the presets).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.h"
#include "vkvision/vkvision.h"

namespace py = pybind11;

namespace vkvision::python {
namespace {

Model load(const std::filesystem::path& path, const std::string& preset, bool optimize) {
  py::gil_scoped_release release;
  return Model::load(path, {.preset = preset, .optimize = optimize});
}

Model make_preset(const std::string& name, uint32_t seed, bool optimize) {
  py::gil_scoped_release release;
  return Model::preset(name, seed, optimize);
}

}  // namespace

void bind_models(py::module_& module) {
  py::class_<Preprocessing>(module, "Preprocessing", "The eval transform a model expects.")
      .def_readonly("input_size", &Preprocessing::input_size)
      .def_readonly("crop_pct", &Preprocessing::crop_pct)
      .def_readonly("interpolation", &Preprocessing::interpolation, "'bicubic' or 'bilinear'")
      .def_readonly("channels", &Preprocessing::channels)
      .def_readonly("mean", &Preprocessing::mean)
      .def_readonly("std", &Preprocessing::std)
      .def("__repr__", [](const Preprocessing& p) {
        return "<vkvision.Preprocessing " + std::to_string(p.input_size) + "px " + p.interpolation + ">";
      });

  py::class_<PresetInfo>(module, "Preset", "A family and configuration vkvision can build.")
      .def_readonly("name", &PresetInfo::name)
      .def_readonly("family", &PresetInfo::family)
      .def_readonly("description", &PresetInfo::description)
      .def("__repr__",
           [](const PresetInfo& p) { return "<vkvision.Preset " + p.name + " (" + p.family + ")>"; });
  module.def("models", &list_presets, "Every preset Model.preset and Model.load(preset=...) take.");

  py::class_<Model>(module, "Model",
                    "A model's layer list and metadata, independent of any device; immutable, so share it\n"
                    "between sessions and threads.")
      .def_static("load", &load, py::arg("path"), py::arg("preset") = "", py::arg("optimize") = true,
                  "Loads a safetensors or PyTorch checkpoint (.safetensors, .pth, .bin); the family and\n"
                  "configuration come from its tensors. preset: check the file against that preset.\n"
                  "Raises InputError naming the file and what is wrong.")
      .def_static("preset", &make_preset, py::arg("name"), py::arg("seed") = 0, py::arg("optimize") = true,
                  "A preset (vkvision.models()) with seeded random weights, for benchmarks and tests.")
      .def_property_readonly("family", [](const Model& m) { return m.info().family; })
      .def_property_readonly("variant", [](const Model& m) { return m.info().variant; })
      .def_property_readonly(
          "naming", [](const Model& m) { return m.info().naming; }, "'official', 'timm' or 'torchvision'")
      .def_property_readonly("origin", [](const Model& m) { return m.info().origin; })
      .def_property_readonly("config", [](const Model& m) { return m.info().config; })
      .def_property_readonly("num_classes", [](const Model& m) { return m.info().num_classes; })
      .def_property_readonly("labels", [](const Model& m) { return m.info().labels; })
      .def_property_readonly("preprocessing", [](const Model& m) { return m.info().preprocessing; })
      .def(
          "describe",
          [](const Model& m, bool optimized, uint32_t batch) { return m.describe_layers(optimized, batch); },
          py::arg("optimized") = true, py::arg("batch") = 1,
          "The layer list as executed (optimized) or as built, one line per layer.")
      .def("__repr__", [](const Model& m) {
        return "<vkvision.Model " + m.info().family + " " + m.info().variant + " from " + m.info().origin +
               ">";
      });
}

}  // namespace vkvision::python
