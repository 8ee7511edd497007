#include "cli/commands.h"
#include "io/npy.h"

namespace vkvision::cli {
namespace {
// A session's batch and input size are 32-bit; these bounds are far past any device's memory.
constexpr int64_t kMaxBatch = 1 << 20, kMaxInputSize = 1 << 16;

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}
}  // namespace

void add_run(CLI::App& app) {
  struct Options {
    ModelSelection model;
    std::string input, output;
  };
  auto options = std::make_shared<Options>();
  auto* command =
      app.add_subcommand("run", "run a normalised NCHW float32 .npy batch and write the logits as .npy");
  add_model_options(*command, options->model, false);
  command->add_option("--input", options->input, "float32 [N, C, H, W], already normalised")->required();
  command->add_option("--output", options->output, "where to write float32 logits [N, classes]")->required();
  command->callback([options] {
    const Model model = load_model(options->model, false);
    const io::NpyArray input = io::read_npy(options->input);
    if (input.shape.size() != 4 || input.shape[2] != input.shape[3] || input.shape[0] < 1 ||
        input.shape[2] < 1)
      throw InputError(options->input + ": expected a square NCHW batch [N, C, S, S] with N, S >= 1, got " +
                       shape_text(input.shape));
    if (input.shape[0] > kMaxBatch || input.shape[2] > kMaxInputSize)
      throw InputError(options->input + ": batch " + std::to_string(input.shape[0]) + " or size " +
                       std::to_string(input.shape[2]) + " is past the limits (" + std::to_string(kMaxBatch) +
                       ", " + std::to_string(kMaxInputSize) + ")");
    if (input.shape[1] != model.info().preprocessing.channels)
      throw InputError(options->input + ": has " + std::to_string(input.shape[1]) +
                       " channels, the model takes " + std::to_string(model.info().preprocessing.channels));
    Session session(open_runtime(options->model), model,
                    session_options(options->model, static_cast<uint32_t>(input.shape[0]),
                                    static_cast<uint32_t>(input.shape[2])));
    const std::vector<float> logits = session.run(input.data);
    io::write_npy(options->output, {input.shape[0], static_cast<int64_t>(model.info().num_classes)}, logits);
  });
}

}  // namespace vkvision::cli
