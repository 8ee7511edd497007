#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/input_batch.h"

namespace vkvision::cli {

void add_classify(CLI::App& app) {
  struct Options {
    ModelSelection model;
    std::vector<std::string> images;
    uint32_t top = 5;
    uint32_t size = 0;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "classify", "classify JPEG/PNG images (default: the bundled Fashion-MNIST ConvNeXt)");
  add_model_options(*command, options->model, true);
  command->add_option("--top", options->top, "how many classes to print per image")
      ->check(CLI::PositiveNumber);
  command->add_flag("--json", options->json, "print JSON instead of text");
  command->add_option("--size", options->size, "input size (default: the model's; crop_pct scales with it)");
  command->add_option("images", options->images, "image files")->required();
  command->callback([options] {
    const Model model = load_model(options->model, true);
    Preprocessing preprocessing = model.info().preprocessing;
    if (options->size) preprocessing.input_size = options->size;
    // Every image is read before the model runs: a bad file fails before anything is printed.
    const std::vector<float> batch = load_batch(options->images, preprocessing);

    auto runtime = open_runtime(options->model);
    Session session(runtime, model,
                    session_options(options->model, static_cast<uint32_t>(options->images.size()),
                                    preprocessing.input_size));
    const std::vector<float> logits = session.run(batch);
    const auto predictions = top_k(logits, model.info().num_classes, options->top, model.info().labels);

    if (options->json) {
      nlohmann::json out = nlohmann::json::array();
      for (size_t i = 0; i < options->images.size(); ++i) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& p : predictions[i])
          top.push_back({{"index", p.index}, {"label", p.label}, {"probability", p.probability}});
        out.push_back({{"image", options->images[i]}, {"top", top}});
      }
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    for (size_t i = 0; i < options->images.size(); ++i) {
      std::printf("%s\n", options->images[i].c_str());
      for (const auto& p : predictions[i])
        std::printf("  %6.2f%%  %s\n", 100.0 * p.probability, p.label.c_str());
    }
  });
}

}  // namespace vkvision::cli
