#include "array_arguments.h"

namespace py = pybind11;

namespace vkvision::python {
namespace {

std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::string type_name(const py::handle& value) { return py::str(value.get_type().attr("__name__")); }

std::string dtype_name(const py::dtype& dtype) { return py::str(dtype.attr("name")); }

py::array checked_array(const py::handle& value, const py::dtype& dtype, const std::string& what,
                        const std::string& expected) {
  if (!py::isinstance<py::array>(value))
    throw py::type_error(what + " must be a numpy.ndarray of " + expected + ", not " + type_name(value));
  auto array = py::reinterpret_borrow<py::array>(value);
  if (!array.dtype().equal(dtype))
    throw py::type_error(what + " has dtype " + dtype_name(array.dtype()) + "; expected " + expected +
                         " (convert with .astype(numpy." + dtype_name(dtype) + "))");
  return array;
}

template <class T>
py::array_t<T> owning_array(std::vector<T>&& values, const std::vector<py::ssize_t>& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* pointer) { delete static_cast<std::vector<T>*>(pointer); });
  return py::array_t<T>(shape, owned->data(), owner);
}

}  // namespace

py::array_t<float> float32_array(const py::handle& value, const std::vector<py::ssize_t>& shape,
                                 const std::string& what) {
  const std::string expected = "float32 with shape " + shape_text(shape);
  auto array = checked_array(value, py::dtype::of<float>(), what, expected);
  const std::vector<py::ssize_t> actual(array.shape(), array.shape() + array.ndim());
  if (actual != shape)
    throw py::value_error(what + " has shape " + shape_text(actual) + "; expected " + expected);
  // ensure() returns the same object when it is already C-contiguous, float32 and aligned.
  return py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(array);
}

Image image_from_array(const py::handle& value, const std::string& what) {
  const std::string expected = "uint8 with shape (H, W) or (H, W, 1 or 3)";
  auto array = checked_array(value, py::dtype::of<uint8_t>(), what, expected);
  const bool grey = array.ndim() == 2 || (array.ndim() == 3 && array.shape(2) == 1);
  if (!grey && !(array.ndim() == 3 && array.shape(2) == 3))
    throw py::value_error(what + " has shape " +
                          shape_text(std::vector<py::ssize_t>(array.shape(), array.shape() + array.ndim())) +
                          "; expected " + expected);
  auto pixels = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(array);
  Image image;
  image.height = static_cast<uint32_t>(array.shape(0));
  image.width = static_cast<uint32_t>(array.shape(1));
  image.channels = grey ? 1 : 3;
  image.pixels.assign(pixels.data(), pixels.data() + pixels.size());
  return image;
}

py::array_t<float> to_array(std::vector<float>&& values, const std::vector<py::ssize_t>& shape) {
  return owning_array(std::move(values), shape);
}

py::array_t<uint8_t> to_array(std::vector<uint8_t>&& values, const std::vector<py::ssize_t>& shape) {
  return owning_array(std::move(values), shape);
}

}  // namespace vkvision::python
