// vkvision.Session: run, profile, classify and preprocess; vkvision.decode_image and top_k.
// The GIL is released while the device runs and while images decode, so Python threads run
// sessions in parallel; each session takes its calls one at a time (a C++ Session is one thread's
// at a time), so sharing one between threads is safe, only serialised.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <mutex>

#include "array_arguments.h"
#include "bindings.h"
#include "runtimes.h"

namespace py = pybind11;

namespace vkvision::python {
namespace {

KernelFamily kernel_family(const std::string& name) {
  if (name == "auto") return KernelFamily::Auto;
  if (name == "register") return KernelFamily::RegisterBlocked;
  if (name == "tiled") return KernelFamily::SharedTiled;
  if (name == "timed") return KernelFamily::Timed;
  throw py::value_error("kernels must be 'auto', 'register', 'tiled' or 'timed', not '" + name + "'");
}

Precision precision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "fp16") return Precision::Fp16;
  throw py::value_error("precision must be 'fp32' or 'fp16', not '" + name + "'");
}

class PythonSession {
 public:
  PythonSession(const Model& model, uint32_t batch, const std::string& precision_name,
                const std::string& kernels, const py::object& device, uint32_t input_size)
      : runtime_(runtime_for(device)),
        model_(model),
        session_(make(batch, precision_name, kernels, input_size)) {}

  py::array_t<float> run(const py::handle& input) {
    auto array = float32_array(input, input_shape(), "Session.run: input");
    const std::span<const float> values(array.data(), static_cast<size_t>(array.size()));
    std::vector<float> logits;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex_);
      logits = session_->run(values);
    }
    return to_array(std::move(logits), {batch(), classes()});
  }

  std::vector<LayerTiming> profile(const py::object& input) {
    const auto shape = input_shape();
    if (input.is_none()) return profile_values(std::vector<float>(element_count(shape), 0.0f));
    auto array = float32_array(input, shape, "Session.profile: input");
    return profile_values(std::span<const float>(array.data(), static_cast<size_t>(array.size())));
  }

  // Each path's k most probable classes, as `vkvision classify` prints them: images decoded and
  // preprocessed on the CPU, run `batch` at a time (the last batch padded with zeros).
  std::vector<std::vector<Prediction>> classify(const std::vector<std::filesystem::path>& paths,
                                                uint32_t top) {
    if (top == 0) throw py::value_error("Session.classify: top must be at least 1");
    py::gil_scoped_release release;
    std::lock_guard lock(mutex_);
    const size_t per_image = element_count(input_shape()) / session_->batch();
    std::vector<std::vector<Prediction>> predictions;
    for (size_t first = 0; first < paths.size(); first += session_->batch()) {
      std::vector<float> input(per_image * session_->batch(), 0.0f);
      const size_t count = std::min<size_t>(session_->batch(), paths.size() - first);
      for (size_t i = 0; i < count; ++i) {
        const auto image = session_->preprocess(decode_image(paths[first + i]));
        std::copy(image.begin(), image.end(), input.begin() + static_cast<std::ptrdiff_t>(i * per_image));
      }
      const auto logits = session_->run(input);
      auto rows = top_k(logits, classes(), top, model_.info().labels);
      predictions.insert(predictions.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(count));
    }
    return predictions;
  }

  // The session's eval transform of an image file or uint8 pixels: float32 (C, S, S).
  py::array_t<float> preprocess(const py::object& image) {
    const bool pixels_given = py::isinstance<py::array>(image);
    if (!pixels_given && !py::isinstance<py::str>(image) && !py::hasattr(image, "__fspath__"))
      throw py::type_error(
          "Session.preprocess: image must be a path or a numpy.ndarray of uint8 (H, W[, C]), not " +
          std::string(py::str(image.get_type().attr("__name__"))));
    const Image pixels = pixels_given ? image_from_array(image, "Session.preprocess: image") : Image{};
    const auto path = pixels_given ? std::filesystem::path() : image.cast<std::filesystem::path>();
    std::vector<float> values;
    {
      py::gil_scoped_release release;
      values = session_->preprocess(pixels_given ? pixels : decode_image(path));
    }
    const auto size = static_cast<py::ssize_t>(session_->input_size());
    return to_array(std::move(values), {static_cast<py::ssize_t>(session_->input_channels()), size, size});
  }

  py::ssize_t batch() const { return session_->batch(); }
  uint32_t classes() const { return model_.info().num_classes; }
  const Session& session() const { return *session_; }
  const Model& model() const { return model_; }
  const std::shared_ptr<Runtime>& runtime() const { return runtime_; }

 private:
  std::unique_ptr<Session> make(uint32_t batch, const std::string& precision_name, const std::string& kernels,
                                uint32_t input_size) {
    const SessionOptions options{.batch = batch,
                                 .input_size = input_size,
                                 .kernels = kernel_family(kernels),
                                 .precision = precision(precision_name)};
    py::gil_scoped_release release;
    return std::make_unique<Session>(runtime_, model_, options);
  }

  std::vector<py::ssize_t> input_shape() const {
    const auto size = static_cast<py::ssize_t>(session_->input_size());
    return {batch(), static_cast<py::ssize_t>(session_->input_channels()), size, size};
  }

  static size_t element_count(const std::vector<py::ssize_t>& shape) {
    size_t count = 1;
    for (auto extent : shape) count *= static_cast<size_t>(extent);
    return count;
  }

  std::vector<LayerTiming> profile_values(std::span<const float> values) {
    py::gil_scoped_release release;
    std::lock_guard lock(mutex_);
    return session_->profile(values);
  }

  std::shared_ptr<Runtime> runtime_;
  Model model_;
  std::unique_ptr<Session> session_;
  std::mutex mutex_;
};

py::array_t<uint8_t> decode(const std::filesystem::path& path) {
  Image image;
  {
    py::gil_scoped_release release;
    image = decode_image(path);
  }
  return to_array(std::move(image.pixels), {image.height, image.width, image.channels});
}

std::vector<std::vector<Prediction>> top_k_rows(const py::handle& logits, uint32_t k,
                                                const std::vector<std::string>& labels) {
  if (!py::isinstance<py::array>(logits) || py::reinterpret_borrow<py::array>(logits).ndim() != 2)
    throw py::type_error("top_k: logits must be a 2-D numpy.ndarray of float32 (batch, classes)");
  const auto shape = py::reinterpret_borrow<py::array>(logits).request().shape;
  auto array = float32_array(logits, shape, "top_k: logits");
  return top_k(std::span<const float>(array.data(), static_cast<size_t>(array.size())),
               static_cast<uint32_t>(shape[1]), k, labels);
}

}  // namespace

void bind_sessions(py::module_& module) {
  py::class_<Prediction>(module, "Prediction", "One class of a top-k list.")
      .def_readonly("index", &Prediction::index)
      .def_readonly("probability", &Prediction::probability)
      .def_readonly("label", &Prediction::label)
      .def("__repr__", [](const Prediction& p) {
        return "<vkvision.Prediction " + std::to_string(p.index) + " '" + p.label + "' " +
               std::to_string(p.probability) + ">";
      });

  py::class_<LayerTiming>(module, "LayerTiming", "One layer's row of Session.profile().")
      .def_readonly("name", &LayerTiming::name)
      .def_readonly("op", &LayerTiming::op)
      .def_readonly("output_shape", &LayerTiming::output_shape)
      .def_readonly("dispatches", &LayerTiming::dispatches)
      .def_readonly("milliseconds", &LayerTiming::milliseconds)
      .def_readonly("gflop", &LayerTiming::gflop)
      .def_readonly("megabytes", &LayerTiming::megabytes)
      .def("__repr__", [](const LayerTiming& t) {
        return "<vkvision.LayerTiming " + t.name + " " + t.op + " " + std::to_string(t.milliseconds) + " ms>";
      });

  py::class_<PythonSession>(
      module, "Session",
      "A model compiled for one device, batch and input size.\n"
      "Session(model, batch=1, precision='fp32', kernels='auto', device=None, input_size=0)\n"
      "device: None (VKVISION_DEVICE, else 0), a device index, or a vkvision.Runtime.")
      .def(py::init<const Model&, uint32_t, const std::string&, const std::string&, const py::object&,
                    uint32_t>(),
           py::arg("model"), py::arg("batch") = 1, py::arg("precision") = "fp32", py::arg("kernels") = "auto",
           py::arg("device") = py::none(), py::arg("input_size") = 0)
      .def("run", &PythonSession::run, py::arg("input"),
           "input: float32 (batch, channels, size, size), normalised (C-contiguous input is read in place).\n"
           "Returns the logits, float32 (batch, classes).")
      .def("profile", &PythonSession::profile, py::arg("input") = py::none(),
           "One run (zeros when input is None) with a timestamp after every layer: a LayerTiming per layer.")
      .def("classify", &PythonSession::classify, py::arg("paths"), py::arg("top") = 5,
           "Each PNG/JPEG file's `top` most probable classes, as `vkvision classify` computes them.")
      .def("preprocess", &PythonSession::preprocess, py::arg("image"),
           "The model's eval transform of an image file or uint8 (H, W[, C]) pixels: float32 (C, S, S).")
      .def_property_readonly("batch", [](const PythonSession& s) { return s.session().batch(); })
      .def_property_readonly("input_size", [](const PythonSession& s) { return s.session().input_size(); })
      .def_property_readonly("input_channels",
                             [](const PythonSession& s) { return s.session().input_channels(); })
      .def_property_readonly("num_classes", &PythonSession::classes)
      .def_property_readonly("kernel_family",
                             [](const PythonSession& s) { return s.session().kernel_family(); })
      .def_property_readonly("dispatch_count",
                             [](const PythonSession& s) { return s.session().dispatch_count(); })
      .def_property_readonly("weight_bytes",
                             [](const PythonSession& s) { return s.session().weight_bytes(); })
      .def_property_readonly("activation_bytes",
                             [](const PythonSession& s) { return s.session().activation_bytes(); })
      .def_property_readonly("model", &PythonSession::model)
      .def_property_readonly("runtime", &PythonSession::runtime);

  module.def("decode_image", &decode, py::arg("path"),
             "Decodes a PNG or JPEG file as vkvision classify does: uint8 (H, W, 1 or 3).");
  module.def("top_k", &top_k_rows, py::arg("logits"), py::arg("k") = 5,
             py::arg("labels") = std::vector<std::string>(),
             "Softmax over each row of logits (batch, classes), then each row's k most probable classes.");
}

}  // namespace vkvision::python
