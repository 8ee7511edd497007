// One home per op: everything the library knows about an OpKind is its traits, defined in its traits
// file src/ops/<name>_op.cpp beside the host code of its kernels (ops/<kernel>.cpp) and their shaders
// (shaders/<kernel>*.comp). The IR asks an op's traits for its shape and its description, the passes
// for the epilogues it accepts, the executor for its packed weights, its fp16 path, its dispatches and
// its work. ops/op_table.cpp holds one entry per OpKind, checked complete when the library is built.
// Host-only declarations: what lowering needs from the device is in ops/lowering.h.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "ir/layer_list.h"

namespace vkvision::vk {
struct Dispatch;
}

namespace vkvision::ops {

struct KernelQuery;  // ops/lowering.h
struct Lowering;     // ops/lowering.h

// The epilogues an op's kernels apply when a pass sets them on its layer (ir::Layer::activation, residual).
struct Epilogues {
  bool activation = false;
  bool residual = false;
};

using PackedParameters = std::vector<std::vector<float>>;

using InferShape = ir::Shape (*)(const ir::Layer& layer, std::span<const ir::Shape> inputs);
using Lower = vk::Dispatch (*)(const Lowering& lowering);

struct OpTraits {
  ir::OpKind kind;
  const char* name;  // ir::op_name(kind)
  Epilogues epilogues;
  // The output's shape from the inputs' shapes (inputs[0] is the main one); checks every parameter's
  // shape and throws InputError naming the layer where one does not fit (ir/shape_checks.h).
  InferShape infer_shape;
  // The attributes ir::describe prints after the op's name, e.g. " 3x3/s1 pad 1"; empty when none.
  std::string (*attributes)(const ir::Layer& layer);
  // Work of one run, in GFLOP (multiply-adds count two), for profiles and `vkvision bench`.
  double (*gflop)(const ir::Layer& layer, const ir::Shape& input, const ir::Shape& output);
  // Parameters in the layout its kernel reads, in binding order after the input (none for ops
  // without weights).
  PackedParameters (*pack)(const ir::Layer& layer, const ir::Shape& input);
  // Whether the kernel the device runs for this layer can read its first packed parameter as fp16.
  bool (*reads_half_weights)(const KernelQuery& query);
  // The dispatch that runs the layer; throws Error for a layer the executor must not see (e.g. a
  // BatchNorm that no pass converted).
  Lower lower;
};

// The traits of `kind`.
const OpTraits& op_traits(ir::OpKind kind);
inline const OpTraits& op_traits(const ir::Layer& layer) { return op_traits(layer.op); }

// Defaults for the entries of ops without weights.
inline std::string no_attributes(const ir::Layer&) { return {}; }
inline PackedParameters no_parameters(const ir::Layer&, const ir::Shape&) { return {}; }
inline bool no_half_weights(const KernelQuery&) { return false; }
// One operation per output element.
double per_output_gflop(const ir::Layer& layer, const ir::Shape& input, const ir::Shape& output);
// The output has the main input's shape.
inline ir::Shape same_shape(const ir::Layer&, std::span<const ir::Shape> inputs) { return inputs[0]; }

// The traits of an op without parameters, attributes, epilogues or an fp16 path, costing one
// operation per output element (the elementwise ops, pooling, gathers).
constexpr OpTraits weightless_op(ir::OpKind kind, InferShape infer_shape, Lower lower) {
  return {.kind = kind,
          .name = ir::op_name(kind),
          .epilogues = {},
          .infer_shape = infer_shape,
          .attributes = no_attributes,
          .gflop = per_output_gflop,
          .pack = no_parameters,
          .reads_half_weights = no_half_weights,
          .lower = lower};
}
// The values of a parameter as a span (empty when the layer has none by that role).
std::span<const float> parameter_values(const ir::Layer& layer, const std::string& role);

}  // namespace vkvision::ops
