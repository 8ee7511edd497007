#include <algorithm>
#include <cmath>
#include <numeric>

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
  std::vector<float> output(state_->plan->output_count());
  state_->plan->run(input, output);
  return output;
}

std::vector<LayerTiming> Session::profile(std::span<const float> input) {
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

std::vector<float> Session::preprocess(const Image& image) const {
  return vkvision::preprocess(image, state_->model->info.preprocessing, state_->input_size);
}

}  // namespace vkvision
