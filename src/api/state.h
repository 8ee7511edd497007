// What the public handles hold, and the one way in to it: detail::Access, a friend of Runtime and
// Model, reachable only from code that includes this internal header (the library, and what links
// vkvision_internal: the CLI, tests, benchmarks).
#pragma once
#include <map>
#include <memory>
#include <string>

#include "exec/frame_recording.h"
#include "exec/plan.h"
#include "exec/submissions.h"
#include "ir/layer_list.h"
#include "ir/passes.h"
#include "vk/context.h"
#include "vk/pipeline.h"
#include "vkvision/vkvision.h"

namespace vkvision::detail {

struct RuntimeState {
  std::shared_ptr<vk::Context> context;
  std::unique_ptr<vk::PipelineCache> pipelines;
};

struct ModelState {
  // As the family builder produced it. Weights read from a file are views into its mapping where
  // the file stores them as aligned float32, so the model costs little memory once sessions have
  // uploaded them; the rest are copies.
  ir::LayerList built;
  bool optimize = true;
  ModelInfo info;
  // Device weights of this model's sessions: a session whose runtime and weight layout (kernel
  // family, precision, fusions) match a live one's shares its upload. The one mutable part of the
  // state, guarded inside.
  mutable exec::WeightCache device_weights;

  // What sessions compile: built after the folding and fusion passes (when optimize is set). Run per
  // session rather than kept, so the tensors the passes rewrite live only until a plan uploads them.
  // The passes' copies are what sessions upload, so the file pages the passes read can go.
  ir::LayerList layers() const {
    if (!optimize) return built;
    ir::LayerList optimized = ir::optimize(built);
    ir::release_file_pages(built);
    return optimized;
  }
};

struct SessionState {
  std::shared_ptr<Runtime> runtime;
  std::shared_ptr<const ModelState> model;
  std::unique_ptr<exec::Plan> plan;
  uint32_t batch = 1, input_size = 0;
  // Recording and submitting with the host's bindings (Session::record, submit), made on first use.
  std::unique_ptr<exec::FrameRecorder> frames;
  std::shared_ptr<exec::Submissions> submissions;
  // submit()'s recordings, one per distinct Bindings (their bytes as the key).
  std::map<std::string, std::unique_ptr<vk::CommandBuffer>> recordings;
  uint64_t own_input_reader = 0;   // the last submission that reads the session's own input
  uint64_t own_logits_writer = 0;  // ... that writes its own logits

  // Declared last, destroyed first: nothing of the session's may go while its submissions run.
  struct WaitForSubmissions {
    SessionState* state;
    ~WaitForSubmissions();
  } wait_for_submissions{this};
};

struct TicketState {
  std::shared_ptr<exec::Submissions> submissions;
  uint64_t id = 0;
};

struct Access {
  static std::shared_ptr<Runtime> make_runtime(std::shared_ptr<RuntimeState> state) {
    return std::shared_ptr<Runtime>(new Runtime(std::move(state)));
  }
  static Model make_model(std::shared_ptr<const ModelState> state) { return Model(std::move(state)); }
  static RuntimeState& state(const Runtime& runtime) { return *runtime.state_; }
  static const std::shared_ptr<const ModelState>& state(const Model& model) { return model.state_; }
  static const SessionState& state(const Session& session) { return *session.state_; }
};

}  // namespace vkvision::detail
