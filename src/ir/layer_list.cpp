#include "ir/layer_list.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <sstream>

#include "ir/shape_checks.h"
#include "ops/op_traits.h"
#include "vkvision/error.h"

namespace vkvision::ir {

HostTensor HostTensor::from(std::vector<int64_t> shape, std::vector<float> values) {
  auto owner = std::make_shared<const std::vector<float>>(std::move(values));
  const float* first = owner->data();
  return HostTensor{std::move(shape), std::shared_ptr<const float>(std::move(owner), first)};
}

HostTensor HostTensor::view(std::vector<int64_t> shape, std::shared_ptr<const void> owner,
                            const float* values) {
  return HostTensor{std::move(shape), std::shared_ptr<const float>(std::move(owner), values), true};
}

void HostTensor::release_file_pages() const {
  if (!file_backed || !data) return;
  // Only the pages wholly inside the tensor: its neighbours in the file may still be wanted.
  // MADV_PAGEOUT never changes contents (unlike MADV_DONTNEED on memory that is not a file's), and a
  // kernel without it (before Linux 5.4) answers EINVAL: the pages then simply stay.
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(values()), end = begin + uintptr_t(numel()) * sizeof(float);
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_PAGEOUT);
}

void release_file_pages(const LayerList& list) {
  for (const Layer& layer : list.layers)
    for (const auto& [role, tensor] : layer.params) tensor.release_file_pages();
}

int64_t HostTensor::numel() const { return shape_numel(shape); }

int64_t shape_numel(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::string shape_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

const HostTensor& Layer::param(const std::string& role) const {
  auto it = params.find(role);
  if (it == params.end()) throw InputError("layer '" + name + "' has no parameter '" + role + "'");
  return it->second;
}

std::vector<size_t> LayerList::consumers(const std::string& tensor) const {
  std::vector<size_t> result;
  for (size_t i = 0; i < layers.size(); ++i)
    for (const auto& input : layers[i].inputs)
      if (input == tensor) {
        result.push_back(i);
        break;
      }
  return result;
}

int LayerList::producer(const std::string& tensor) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].output == tensor) return static_cast<int>(i);
  return -1;
}

std::map<std::string, Shape> infer_shapes(const LayerList& list, uint32_t batch, uint32_t height,
                                          uint32_t width) {
  std::map<std::string, Shape> shapes;
  // The network input is NCHW; recorded here as such (only input_nchw convolutions read it).
  shapes[list.input] = {batch, list.input_channels, height, width};
  for (const Layer& layer : list.layers) {
    std::vector<Shape> in;
    for (const auto& name : layer.inputs) {
      auto it = shapes.find(name);
      if (it == shapes.end()) shape_error(layer, "input '" + name + "' is not produced by an earlier layer");
      in.push_back(it->second);
    }
    if (in.empty()) shape_error(layer, "has no input");
    const ops::OpTraits& traits = ops::op_traits(layer);
    const Shape out = traits.infer_shape(layer, in);
    // An epilogue the op's kernels do not apply would be dropped without a word: a wrong answer.
    if (layer.residual && !traits.epilogues.residual)
      shape_error(layer, "its kernels apply no residual epilogue");
    if (layer.residual && (in.size() < 2 || in.back() != out))
      shape_error(layer, "residual input does not match the output shape");
    if (layer.activation != ops::Activation::None && !traits.epilogues.activation)
      shape_error(layer, "its kernels apply no activation epilogue");
    shapes[layer.output] = out;
  }
  if (!shapes.count(list.output))
    throw InputError("the layer list never produces its output '" + list.output + "'");
  return shapes;
}

std::string fused_op_name(const Layer& layer) {
  std::string name = op_name(layer.op);
  if (layer.normalize_input) name = "layer_norm+" + name;
  if (layer.input_scale) name = "channel_gate+" + name;
  if (layer.gather_patches) name = "patch_gather+" + name;
  if (layer.fused_layer_norm) name += layer.emits_statistics ? "+layer_norm_statistics" : "+layer_norm";
  if (layer.fused_projection) name += "+projection";
  if (layer.activation != ops::Activation::None)
    name += std::string("+") + ops::activation_name(layer.activation);
  if (layer.residual) name += "+residual";
  return name;
}

std::string describe(const LayerList& list, uint32_t batch, uint32_t height, uint32_t width) {
  const auto shapes = infer_shapes(list, batch, height, width);
  std::ostringstream out;
  out << list.layers.size() << " layers, input " << list.input << " " << shape_string(shapes.at(list.input))
      << " (NCHW)\n";
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const Layer& layer = list.layers[i];
    out << "  " << i << "  " << op_name(layer.op);
    out << ops::op_traits(layer).attributes(layer);
    if (layer.gather_patches) out << " +patch_gather";
    if (layer.has_param("input_scale")) out << " +input_affine";
    if (layer.gate) out << " +gate(" << layer.inputs[layer.input_scale ? 2 : 1] << ")";
    if (layer.input_scale) out << " +input_scale(" << layer.inputs[1] << ")";
    if (layer.normalize_input)
      out << (layer.input_statistics ? " +input_layer_norm(statistics)" : " +input_layer_norm");
    if (layer.fused_projection) out << " +projection";
    if (layer.fused_layer_norm) out << (layer.emits_statistics ? " +layer_norm_statistics" : " +layer_norm");
    if (layer.activation != ops::Activation::None) out << " +" << ops::activation_name(layer.activation);
    if (layer.residual) out << " +residual(" << layer.inputs.back() << ")";
    out << "  " << layer.name << "  " << shape_string(shapes.at(layer.inputs[0])) << " -> "
        << shape_string(shapes.at(layer.output));
    for (const auto& [role, tensor] : layer.params) out << "  " << role << shape_string(tensor.shape);
    out << "\n";
  }
  return out.str();
}

}  // namespace vkvision::ir
