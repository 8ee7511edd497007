// What an op's traits (ops/op_traits.h) get from the executor when it compiles a plan: the device and
// the layer with its shapes, and, for lowering, the device buffers of its parameters and tensors.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "ir/layer_list.h"
#include "ops/gemm.h"
#include "vk/memory.h"
#include "vk/program.h"
#include "vkvision/device.h"

namespace vkvision::ops {

struct KernelQuery {
  const DeviceInfo& info;
  const ir::Layer& layer;
  const ir::Shape& input;  // inputs[0]'s shape
  const ir::Shape& output;
  GemmOperands gemm_operands;  // the GEMM path of the plan's kernel family
};

struct Lowering : KernelQuery {
  bool half_weights;  // the first packed parameter is fp16 (reads_half_weights said it can be)
  std::function<vk::BufferSlice(size_t)> parameter;           // the layer's packed parameters, by index
  std::function<vk::BufferSlice(const std::string&)> tensor;  // an activation tensor, by name
  // The (mean, 1/std) row statistics stored after a tensor whose producer emits them.
  std::function<vk::BufferSlice(const std::string&)> statistics;

  vk::BufferSlice main_input() const { return tensor(layer.inputs[0]); }
  vk::BufferSlice result() const { return tensor(layer.output); }
  // The residual epilogue's input (the layer's last input), where the layer has one.
  std::optional<vk::BufferSlice> residual() const {
    return layer.residual ? std::optional(tensor(layer.inputs.back())) : std::nullopt;
  }
};

}  // namespace vkvision::ops
