#include "ir/layer_list.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <sstream>

#include "vkvision/error.h"

namespace vkvision::ir {

HostTensor HostTensor::from(std::vector<int64_t> shape, std::vector<float> values) {
  auto owner = std::make_shared<const std::vector<float>>(std::move(values));
  const float* first = owner->data();
  return HostTensor{std::move(shape), std::shared_ptr<const float>(std::move(owner), first)};
}

HostTensor HostTensor::view(std::vector<int64_t> shape, std::shared_ptr<const void> owner, const float* values) {
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

const char* op_name(OpKind op) {
  switch (op) {
    case OpKind::Conv2d: return "conv2d";
    case OpKind::DepthwiseConv2d: return "depthwise_conv2d";
    case OpKind::Linear: return "linear";
    case OpKind::LayerNorm: return "layer_norm";
    case OpKind::BatchNorm: return "batch_norm";
    case OpKind::ChannelAffine: return "channel_affine";
    case OpKind::MeanPool: return "mean_pool";
    case OpKind::Gelu: return "gelu";
    case OpKind::Relu: return "relu";
    case OpKind::Add: return "add";
    case OpKind::WindowAttention: return "window_attention";
    case OpKind::PatchMergeGather: return "patch_merge_gather";
    case OpKind::SpatialMlp: return "spatial_mlp";
    case OpKind::InceptionDepthwise: return "inception_depthwise";
    case OpKind::PartitionLinear: return "partition_linear";
    case OpKind::PartitionConv: return "partition_conv";
    case OpKind::ChannelGate: return "channel_gate";
  }
  return "?";
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

namespace {

[[noreturn]] void shape_error(const Layer& layer, const std::string& problem) {
  throw InputError("layer '" + layer.name + "' (" + op_name(layer.op) + "): " + problem);
}

void expect_param_shape(const Layer& layer, const std::string& role, const Shape& expected) {
  const HostTensor& tensor = layer.param(role);
  if (tensor.shape != expected)
    shape_error(layer, role + " has shape " + shape_string(tensor.shape) + ", expected " + shape_string(expected));
}

void expect_vector(const Layer& layer, const std::string& role, int64_t size, bool optional = false) {
  if (optional && !layer.has_param(role)) return;
  const HostTensor& tensor = layer.param(role);
  if (tensor.numel() != size)
    shape_error(layer, role + " has " + std::to_string(tensor.numel()) + " values, expected " + std::to_string(size));
}

}  // namespace

std::map<std::string, Shape> infer_shapes(const LayerList& list, uint32_t batch, uint32_t height, uint32_t width) {
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
    const Shape& x = in[0];
    Shape out;
    const int64_t channels = x.back();
    switch (layer.op) {
      case OpKind::Conv2d:
      case OpKind::DepthwiseConv2d: {
        int64_t n = x[0], c, h, w;
        if (layer.input_nchw) c = x[1], h = x[2], w = x[3];
        else if (x.size() == 4) h = x[1], w = x[2], c = x[3];
        else shape_error(layer, "expects a feature map, got " + shape_string(x));
        const HostTensor& weight = layer.param("weight");
        if (weight.shape.size() != 4) shape_error(layer, "weight has shape " + shape_string(weight.shape) + ", expected 4-D");
        const int64_t oc = weight.shape[0];
        const uint32_t groups = layer.op == OpKind::DepthwiseConv2d ? static_cast<uint32_t>(c) : layer.groups;
        if (groups == 0 || c % groups != 0 || oc % groups != 0)
          shape_error(layer, "groups " + std::to_string(groups) + " do not divide channels " + std::to_string(c) + " -> " + std::to_string(oc));
        expect_param_shape(layer, "weight", {oc, c / groups, layer.kernel_h, layer.kernel_w});
        expect_vector(layer, "bias", oc, true);
        if (layer.fused_layer_norm) {
          expect_vector(layer, "norm_weight", oc);
          expect_vector(layer, "norm_bias", oc);
        }
        const int64_t end_h = layer.ceil_mode ? layer.stride_h - 1 : 0, end_w = layer.ceil_mode ? layer.stride_w - 1 : 0;
        const int64_t oh = (h + 2 * layer.pad_h + end_h - layer.kernel_h) / layer.stride_h + 1;
        const int64_t ow = (w + 2 * layer.pad_w + end_w - layer.kernel_w) / layer.stride_w + 1;
        if (h + 2 * static_cast<int64_t>(layer.pad_h) < layer.kernel_h || w + 2 * static_cast<int64_t>(layer.pad_w) < layer.kernel_w || oh <= 0 || ow <= 0)
          shape_error(layer, "input " + std::to_string(h) + "x" + std::to_string(w) + " is smaller than the kernel");
        out = {n, oh, ow, oc};
        break;
      }
      case OpKind::Linear: {
        const HostTensor& weight = layer.param("weight");
        if (weight.shape.size() != 2 && !(weight.shape.size() == 4 && weight.shape[2] == 1 && weight.shape[3] == 1))
          shape_error(layer, "weight has shape " + shape_string(weight.shape) + ", expected [out, in]");
        if (weight.shape[1] != channels)
          shape_error(layer, "weight expects " + std::to_string(weight.shape[1]) + " input features, the input has " + std::to_string(channels));
        expect_vector(layer, "bias", weight.shape[0], true);
        out = x;
        out.back() = weight.shape[0];
        break;
      }
      case OpKind::LayerNorm:
        out = x;
        if (layer.gather_patches) {
          if (x.size() != 4) shape_error(layer, "gathers patches of [N,H,W,C], got " + shape_string(x));
          out = {x[0], (x[1] + 1) / 2, (x[2] + 1) / 2, 4 * x[3]};
        }
        expect_vector(layer, "weight", out.back());
        expect_vector(layer, "bias", out.back());
        break;
      case OpKind::BatchNorm:
        for (const char* role : {"weight", "bias", "running_mean", "running_var"}) expect_vector(layer, role, channels);
        out = x;
        break;
      case OpKind::ChannelAffine:
        expect_vector(layer, "scale", channels);
        expect_vector(layer, "shift", channels, true);
        out = x;
        break;
      case OpKind::MeanPool:
        if (x.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(x));
        out = {x[0], x[3]};
        break;
      case OpKind::Gelu:
      case OpKind::Relu:
        out = x;
        break;
      case OpKind::Add:
        if (in.size() != 2 || in[0] != in[1]) shape_error(layer, "adds tensors of different shapes");
        out = x;
        break;
      case OpKind::WindowAttention: {
        if (x.size() != 4 || channels % 3 != 0) shape_error(layer, "expects qkv [N,H,W,3C], got " + shape_string(x));
        const int64_t c = channels / 3;
        if (layer.heads == 0 || c % layer.heads != 0)
          shape_error(layer, std::to_string(layer.heads) + " heads do not divide the width " + std::to_string(c));
        if (layer.window == 0) shape_error(layer, "window size is 0");
        const int64_t t = int64_t(layer.window) * layer.window;
        expect_vector(layer, "qkv_bias", 3 * c);
        expect_param_shape(layer, "position_bias", {layer.heads, t, t});
        expect_vector(layer, "head_scale", layer.heads);
        if (layer.fused_projection) {
          expect_param_shape(layer, "proj_weight", {c, c});
          expect_vector(layer, "proj_bias", c);
        }
        out = x;
        out.back() = c;
        break;
      }
      case OpKind::SpatialMlp: {
        if (x.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(x));
        const int64_t t = int64_t(layer.window) * layer.window;
        if (layer.heads == 0 || channels % layer.heads != 0)
          shape_error(layer, std::to_string(layer.heads) + " heads do not divide the width " + std::to_string(channels));
        expect_param_shape(layer, "weight", {layer.heads, t, t});
        expect_param_shape(layer, "bias", {layer.heads, t});
        out = x;
        break;
      }
      case OpKind::PatchMergeGather:
        if (x.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(x));
        out = {x[0], (x[1] + 1) / 2, (x[2] + 1) / 2, 4 * x[3]};
        break;
      case OpKind::PartitionLinear:
      case OpKind::PartitionConv: {
        if (x.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(x));
        const int64_t ph = layer.partition_h, pw = layer.partition_w, sharesets = layer.groups;
        if (ph == 0 || pw == 0 || x[1] % ph != 0 || x[2] % pw != 0)
          shape_error(layer, "partitions of " + std::to_string(ph) + "x" + std::to_string(pw) + " do not tile the " +
                                 std::to_string(x[1]) + "x" + std::to_string(x[2]) + " feature map (input size)");
        if (sharesets == 0 || channels % sharesets != 0)
          shape_error(layer, std::to_string(sharesets) + " sharesets do not divide the width " + std::to_string(channels));
        if (layer.op == OpKind::PartitionLinear) {
          expect_param_shape(layer, "weight", {sharesets * ph * pw, ph * pw});
          expect_vector(layer, "bias", sharesets * ph * pw, true);
          expect_vector(layer, "input_scale", channels, true);
          expect_vector(layer, "input_shift", channels, true);
          if (layer.gate && (in.size() < 2 || in[1] != Shape{x[0], channels}))
            shape_error(layer, "gate input is not [N, C] = " + shape_string({x[0], channels}));
        } else {
          if (layer.kernel_h % 2 == 0 || layer.kernel_w % 2 == 0 || layer.pad_h != layer.kernel_h / 2 || layer.pad_w != layer.kernel_w / 2)
            shape_error(layer, "kernel must be odd with padding kernel / 2");
          expect_param_shape(layer, "weight", {sharesets, 1, layer.kernel_h, layer.kernel_w});
          expect_vector(layer, "bias", sharesets, true);
        }
        out = x;
        break;
      }
      case OpKind::ChannelGate:
        if (x.size() != 4 || in.size() != 2 || in[1] != Shape{x[0], channels})
          shape_error(layer, "gates a [N,H,W,C] map by [N,C], got " + shape_string(x) + " and " + (in.size() > 1 ? shape_string(in[1]) : "nothing"));
        out = x;
        break;
      case OpKind::InceptionDepthwise: {
        if (x.size() != 4) shape_error(layer, "expects [N,H,W,C], got " + shape_string(x));
        const Shape& square = layer.param("weight_hw").shape;
        const Shape& wide = layer.param("weight_w").shape;
        if (square.size() != 4 || wide.size() != 4) shape_error(layer, "branch weights must be 4-D");
        const int64_t g = square[0], k = square[2], b = wide[3];
        if (g <= 0 || 3 * g > channels)
          shape_error(layer, "three branches of " + std::to_string(g) + " channels do not fit the width " + std::to_string(channels));
        if (k % 2 == 0 || b % 2 == 0) shape_error(layer, "kernels " + std::to_string(k) + " and " + std::to_string(b) + " must be odd");
        expect_param_shape(layer, "weight_hw", {g, 1, k, k});
        expect_param_shape(layer, "weight_w", {g, 1, 1, b});
        expect_param_shape(layer, "weight_h", {g, 1, b, 1});
        for (const char* role : {"bias_hw", "bias_w", "bias_h"}) expect_vector(layer, role, g);
        out = x;
        break;
      }
    }
    if (layer.residual) {
      if (in.size() < 2 || in.back() != out) shape_error(layer, "residual input does not match the output shape");
    }
    shapes[layer.output] = out;
  }
  if (!shapes.count(list.output)) throw InputError("the layer list never produces its output '" + list.output + "'");
  return shapes;
}

std::string describe(const LayerList& list, uint32_t batch, uint32_t height, uint32_t width) {
  const auto shapes = infer_shapes(list, batch, height, width);
  std::ostringstream out;
  out << list.layers.size() << " layers, input " << list.input << " " << shape_string(shapes.at(list.input))
      << " (NCHW)\n";
  for (size_t i = 0; i < list.layers.size(); ++i) {
    const Layer& layer = list.layers[i];
    out << "  " << i << "  " << op_name(layer.op);
    if (layer.op == OpKind::Conv2d || layer.op == OpKind::DepthwiseConv2d)
      out << " " << layer.kernel_h << "x" << layer.kernel_w << "/s" << layer.stride_h << " pad " << layer.pad_h
          << (layer.ceil_mode ? " ceil" : "")
          << (layer.groups > 1 ? " groups " + std::to_string(layer.groups) : "");
    if (layer.op == OpKind::WindowAttention || layer.op == OpKind::SpatialMlp)
      out << " window " << layer.window << " shift " << layer.shift << " heads " << layer.heads
          << (layer.cosine ? " cosine" : "");
    if (layer.op == OpKind::PartitionLinear || layer.op == OpKind::PartitionConv)
      out << " partition " << layer.partition_h << "x" << layer.partition_w << " sharesets " << layer.groups;
    if (layer.op == OpKind::PartitionConv) out << " kernel " << layer.kernel_h << "x" << layer.kernel_w;
    if (layer.gather_patches) out << " +patch_gather";
    if (layer.has_param("input_scale")) out << " +input_affine";
    if (layer.gate) out << " +gate(" << layer.inputs[1] << ")";
    if (layer.normalize_input) out << (layer.input_statistics ? " +input_layer_norm(statistics)" : " +input_layer_norm");
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
