// What the public handles hold.
#pragma once
#include <memory>

#include "graph/layer_list.h"
#include "graph/plan.h"
#include "vk/context.h"
#include "vk/pipeline.h"
#include "vkvision/vkvision.h"

namespace vkvision::detail {

struct RuntimeState {
  std::shared_ptr<vk::Context> context;
  std::unique_ptr<vk::PipelineCache> pipelines;
};

struct ModelState {
  graph::LayerList built;      // as the family builder produced it
  graph::LayerList optimized;  // after the passes (equal to built when optimisation is off)
  ModelInfo info;
};

struct SessionState {
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<const ModelState> model;
  std::unique_ptr<graph::Plan> plan;
  uint32_t batch = 1, input_size = 0;
};

}  // namespace vkvision::detail
