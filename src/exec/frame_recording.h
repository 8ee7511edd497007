// A compiled plan recorded with the caller's inputs and outputs (Session::record and submit): a host
// buffer or images in, a host buffer or the session's own readback out, every sub-batch in turn,
// between an entry and an exit barrier that state the contract with the host (vkvision/embedding.h).
#pragma once
#include <memory>

#include "exec/image_input.h"
#include "exec/plan.h"
#include "io/image.h"
#include "vk/command.h"
#include "vk/memory.h"
#include "vkvision/embedding.h"

namespace vkvision::exec {

class FrameRecorder {
 public:
  // plan: outlives the recorder. preprocessing: the eval transform for image inputs.
  FrameRecorder(std::shared_ptr<vk::Context> context, vk::PipelineCache& pipelines, const Plan& plan,
                io::PreprocessConfig preprocessing);
  ~FrameRecorder();

  // Throws InputError (naming the binding) for bindings the plan cannot take: two inputs, a wrong
  // image count, a buffer range too small or without the usage vkvision's copies need, an image
  // ImagePreprocessor::check refuses (DeviceError for a format the device cannot sample).
  void check(const Bindings& bindings) const;
  // check(), then records the whole batch into `commands`. The first use of the session's own input
  // or logits memory, or of a distinct image, allocates it; later records allocate nothing.
  void record(vk::CommandBuffer& commands, const Bindings& bindings);

  // The session's own input (Bindings without input) and logits (without output), whole-batch.
  void write_input(std::span<const float> input);
  void read_logits(std::span<float> logits) const;

 private:
  vk::Arena& own_input();
  vk::Arena& own_logits();

  std::shared_ptr<vk::Context> context_;
  vk::PipelineCache& pipelines_;
  const Plan& plan_;
  io::PreprocessConfig preprocessing_;
  bool graphics_queue_ = false;
  std::unique_ptr<ImagePreprocessor> images_;
  std::unique_ptr<vk::Arena> own_input_, own_logits_;
};

}  // namespace vkvision::exec
