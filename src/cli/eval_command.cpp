#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/input_batch.h"
#include "io/fashion_mnist.h"

namespace vkvision::cli {
namespace {

void draw_progress(size_t done, size_t total, size_t correct) {
  const int width = 40, filled = static_cast<int>(width * done / std::max<size_t>(total, 1));
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu  accuracy %.2f%%", filled,
               "########################################", width - filled, "", done, total,
               done ? 100.0 * correct / done : 0.0);
  std::fflush(stderr);
}

}  // namespace

void add_eval(CLI::App& app) {
  struct Options {
    ModelSelection model;
    std::string dataset;
    std::string data_dir = io::kFashionMnistDir;
    size_t limit = 0;
    uint32_t batch = 100;
  };
  auto options = std::make_shared<Options>();
  auto* command =
      app.add_subcommand("eval", "accuracy on a labelled test set (default model: the bundled one)");
  add_model_options(*command, options->model, true);
  command->add_option("--dataset", options->dataset, "test set")
      ->required()
      ->check(CLI::IsMember({"fashion-mnist"}));
  command->add_option("--data-dir", options->data_dir,
                      "folder with the IDX files (Debian's dataset-fashion-mnist)");
  command->add_option("--limit", options->limit, "evaluate only the first N images");
  command->add_option("--batch", options->batch, "images per inference")->check(CLI::PositiveNumber);
  command->callback([options] {
    const Model model = load_model(options->model, true);
    const io::LabeledImages test = io::read_fashion_mnist(options->data_dir, "t10k");
    if (model.info().num_classes != 10)
      throw InputError(model.info().origin + ": has " + std::to_string(model.info().num_classes) +
                       " classes; Fashion-MNIST has 10");
    const size_t total = options->limit ? std::min<size_t>(options->limit, test.count) : test.count;
    const uint32_t batch = static_cast<uint32_t>(std::min<size_t>(options->batch, total));
    Session session(open_runtime(options->model), model, session_options(options->model, batch, 0));
    const bool progress = isatty(STDERR_FILENO);
    const size_t pixels = static_cast<size_t>(test.rows) * test.cols;
    size_t correct = 0;
    for (size_t start = 0; start < total; start += batch) {
      // The last batch is padded by repeating its final image; padded rows are not counted.
      std::vector<io::Image> images;
      for (size_t i = start; i < start + batch; ++i) {
        const size_t source = std::min(i, total - 1);
        io::Image image{test.cols, test.rows, 1, {}};
        image.pixels.assign(test.pixels.begin() + source * pixels,
                            test.pixels.begin() + (source + 1) * pixels);
        images.push_back(std::move(image));
      }
      const std::vector<float> logits = session.run(make_batch(images, model.info().preprocessing));
      const auto predictions = top_k(logits, 10, 1, model.info().labels);
      for (size_t i = start; i < std::min(start + batch, total); ++i)
        correct += predictions[i - start][0].index == test.labels[i];
      if (progress) draw_progress(std::min(start + batch, total), total, correct);
    }
    if (progress) std::fprintf(stderr, "\n");
    const double accuracy = 100.0 * correct / total;
    std::printf("Fashion-MNIST t10k: %zu images, accuracy %.2f%% (%zu correct) with %s\n", total, accuracy,
                correct, model.info().origin.c_str());
    auto recorded = model.info().pytorch_test_accuracy;
    if (recorded >= 0 && total == static_cast<size_t>(test.count))
      std::printf("PyTorch recorded %.2f%% for this checkpoint: difference %+.2f points\n", recorded,
                  accuracy - recorded);
  });
}

}  // namespace vkvision::cli
