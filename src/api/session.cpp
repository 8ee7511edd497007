#include <algorithm>
#include <cmath>
#include <numeric>

#include "api/preprocess_config.h"
#include "api/state.h"

namespace vkvision {

Session::Session(std::shared_ptr<Runtime> runtime, const Model& model, const SessionOptions& options)
    : state_(std::make_unique<detail::SessionState>()) {
  if (options.batch == 0) throw InputError("batch size must be at least 1");
  state_->runtime = std::move(runtime);
  state_->model = detail::Access::state(model);
  state_->batch = options.batch;
  state_->input_size = options.input_size ? options.input_size : model.info().preprocessing.input_size;
  auto& runtime_state = detail::Access::state(*state_->runtime);
  runtime_state.context->throw_if_lost();  // before the plan's host work, not at its first allocation
  const detail::ModelState& model_state = *state_->model;
  state_->plan =
      std::make_unique<exec::Plan>(runtime_state.context, *runtime_state.pipelines, model_state.layers(),
                                   state_->batch, state_->input_size, state_->input_size, options.kernels,
                                   options.precision, 0, &model_state.device_weights);
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::vector<float> Session::run(std::span<const float> input) {
  if (state_->submissions) state_->submissions->wait_all();  // they use the same activations
  std::vector<float> output(state_->plan->output_count());
  state_->plan->run(input, output);
  return output;
}

std::vector<LayerTiming> Session::profile(std::span<const float> input) {
  if (state_->submissions) state_->submissions->wait_all();
  return state_->plan->profile(input);
}

uint32_t Session::batch() const { return state_->batch; }
uint32_t Session::input_size() const { return state_->input_size; }
uint32_t Session::sub_batch() const { return state_->plan->sub_batch(); }
uint32_t Session::input_channels() const { return state_->model->built.input_channels; }
size_t Session::dispatch_count() const { return state_->plan->dispatch_count(); }
size_t Session::barrier_count() const { return state_->plan->barrier_count(); }
std::string Session::kernel_family() const {
  const auto& choice = state_->plan->kernel_choice();
  return std::string(choice.family == KernelFamily::SharedTiled ? "tiled" : "register") + " (" +
         choice.reason + ")";
}
uint64_t Session::weight_bytes() const { return state_->plan->weight_bytes(); }
uint64_t Session::activation_bytes() const { return state_->plan->activation_bytes(); }

std::vector<std::vector<Prediction>> top_k(std::span<const float> logits, uint32_t classes, uint32_t k,
                                           const std::vector<std::string>& labels) {
  std::vector<std::vector<Prediction>> result;
  if (classes == 0) return result;
  k = std::min(k, classes);
  for (size_t row = 0; row + classes <= logits.size(); row += classes) {
    const float* x = logits.data() + row;
    const float peak = *std::max_element(x, x + classes);
    std::vector<double> probabilities(classes);
    double total = 0;
    for (uint32_t c = 0; c < classes; ++c) total += probabilities[c] = std::exp(double(x[c]) - peak);
    std::vector<uint32_t> order(classes);
    std::iota(order.begin(), order.end(), 0u);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](uint32_t a, uint32_t b) { return probabilities[a] > probabilities[b]; });
    std::vector<Prediction> top;
    for (uint32_t i = 0; i < k; ++i)
      top.push_back({order[i], static_cast<float>(probabilities[order[i]] / total),
                     order[i] < labels.size() ? labels[order[i]] : "class " + std::to_string(order[i])});
    result.push_back(std::move(top));
  }
  return result;
}

namespace detail {

SessionState::WaitForSubmissions::~WaitForSubmissions() {
  if (!state->submissions) return;
  try {
    state->submissions->wait_all();
  } catch (const Error&) {
    // A lost or hung device: the arenas keep what may still run (they check the context).
  }
}

}  // namespace detail

namespace {

exec::FrameRecorder& frames(detail::SessionState& state) {
  if (!state.frames) {
    auto& runtime = detail::Access::state(*state.runtime);
    state.frames = std::make_unique<exec::FrameRecorder>(
        runtime.context, *runtime.pipelines, *state.plan,
        detail::preprocess_config(state.model->info.preprocessing, state.input_size));
  }
  return *state.frames;
}

exec::Submissions& submissions(detail::SessionState& state) {
  if (!state.submissions)
    state.submissions = std::make_shared<exec::Submissions>(detail::Access::state(*state.runtime).context);
  return *state.submissions;
}

// The bytes of every field: equal keys record identical commands.
std::string bindings_key(const Bindings& b) {
  std::string key;
  const auto add = [&](const auto& value) {
    key.append(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  for (const BufferRange* range : {&b.input_buffer, &b.output_buffer}) {
    add(range->buffer), add(range->offset), add(range->size), add(range->usage);
  }
  for (const ImageInput& image : b.input_images) {
    add(image.view), add(image.format), add(image.width), add(image.height), add(image.layout);
    add(image.x), add(image.y), add(image.rect_width), add(image.rect_height);
  }
  add(b.input_stages), add(b.input_access), add(b.output_stages), add(b.output_access);
  return key;
}

bool uses_own_input(const Bindings& b) { return !b.input_buffer.buffer && b.input_images.empty(); }

// Recordings kept per session before the oldest are dropped (each is one command buffer and pool).
constexpr size_t kMaxRecordings = 8;

}  // namespace

void Session::record(VkCommandBuffer commands, const Bindings& bindings) {
  if (uses_own_input(bindings) || !bindings.output_buffer.buffer)
    throw InputError(
        "Session::record needs an input (Bindings::input_buffer or input_images) and "
        "Bindings::output_buffer: the session's own input and logits are for submit()");
  auto& context = *detail::Access::state(*state_->runtime).context;
  context.throw_if_lost();
  vk::CommandBuffer borrowed(context, commands);
  frames(*state_).record(borrowed, bindings);
}

Ticket Session::submit(const Bindings& bindings, const SubmitSync& sync) {
  auto& context = detail::Access::state(*state_->runtime).context;
  context->throw_if_lost();
  exec::Submissions& queue = submissions(*state_);
  const std::string key = bindings_key(bindings);
  auto found = state_->recordings.find(key);
  if (found == state_->recordings.end()) {
    frames(*state_).check(bindings);
    if (state_->recordings.size() >= kMaxRecordings) {
      queue.wait_all();  // a recording may not be freed while pending
      state_->recordings.clear();
    }
    auto recording = std::make_unique<vk::CommandBuffer>(*context, /*simultaneous_use=*/true);
    recording->begin();
    frames(*state_).record(*recording, bindings);
    recording->end();
    found = state_->recordings.emplace(key, std::move(recording)).first;
  }
  const uint64_t id = queue.submit(found->second->handle(), sync);
  if (uses_own_input(bindings)) state_->own_input_reader = id;
  if (!bindings.output_buffer.buffer) state_->own_logits_writer = id;
  auto ticket = std::make_shared<detail::TicketState>();
  ticket->submissions = state_->submissions;
  ticket->id = id;
  return Ticket(std::move(ticket));
}

void Session::write_input(std::span<const float> input) {
  if (input.size() != state_->plan->input_count())
    throw InputError("Session::write_input: " + std::to_string(input.size()) + " values, the session takes " +
                     std::to_string(state_->plan->input_count()));
  if (state_->submissions)
    state_->submissions->wait(state_->own_input_reader, std::chrono::nanoseconds::max());
  frames(*state_).write_input(input);
}

std::vector<float> Session::logits() {
  if (!state_->own_logits_writer)
    throw InputError("Session::logits: no submission without Bindings::output_buffer has been made");
  state_->submissions->wait(state_->own_logits_writer, std::chrono::nanoseconds::max());
  std::vector<float> logits(state_->plan->output_count());
  frames(*state_).read_logits(logits);
  return logits;
}

Ticket::Ticket(std::shared_ptr<const detail::TicketState> state) : state_(std::move(state)) {}

bool Ticket::ready() const { return !state_ || state_->submissions->finished(state_->id); }

bool Ticket::wait(std::chrono::nanoseconds timeout) const {
  return !state_ || state_->submissions->wait(state_->id, timeout);
}

std::vector<float> Session::preprocess(const Image& image) const {
  return vkvision::preprocess(image, state_->model->info.preprocessing, state_->input_size);
}

}  // namespace vkvision
