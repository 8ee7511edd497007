// `vkvision bench`: wall-clock latency of whole inferences (input copy, one submit, wait, output
// copy), after warm-up; optionally a per-layer device-time table from timestamp queries.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/embedding_costs.h"

namespace vkvision::cli {

namespace {
// Device time per op kind (the fused name, e.g. linear+gelu), largest first: where the time goes.
void print_op_summary(const std::vector<LayerTiming>& layers) {
  struct Sum {
    int layers = 0;
    double ms = 0, gflop = 0, megabytes = 0;
  };
  std::map<std::string, Sum> by_op;
  for (const auto& layer : layers) {
    Sum& sum = by_op[layer.op];
    ++sum.layers;
    sum.ms += layer.milliseconds;
    sum.gflop += layer.gflop;
    sum.megabytes += layer.megabytes;
  }
  std::vector<std::pair<std::string, Sum>> sorted(by_op.begin(), by_op.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
  std::printf("\n%-40s %6s %9s %8s %7s\n", "op", "layers", "ms", "GFLOP/s", "GB/s");
  for (const auto& [op, sum] : sorted)
    std::printf("%-40s %6d %9.3f %8.2f %7.2f\n", op.c_str(), sum.layers, sum.ms,
                sum.ms > 0 ? sum.gflop / (sum.ms * 1e-3) : 0, sum.ms > 0 ? sum.megabytes / sum.ms : 0);
}
}  // namespace

void add_bench(CLI::App& app) {
  struct Options {
    ModelSelection model;
    uint32_t batch = 1, iterations = 10, warmup = 2, size = 0;
    bool per_layer = false, unconverted = false, embedding = false;
    std::string json;
  };
  auto options = std::make_shared<Options>();
  auto* command =
      app.add_subcommand("bench", "measure latency and throughput (--model NAME uses random weights)");
  add_model_options(*command, options->model, false);
  command->add_option("--batch", options->batch, "batch size")->check(CLI::PositiveNumber);
  command->add_option("--iters", options->iterations, "timed iterations")->check(CLI::PositiveNumber);
  command->add_option("--warmup", options->warmup, "untimed iterations first");
  command->add_option("--size", options->size, "input size (default: the model's)");
  command->add_flag("--per-layer", options->per_layer, "print device time per layer (timestamp queries)");
  command->add_flag("--unconverted", options->unconverted,
                    "run the layer list as built: branches, BatchNorm and activations as separate layers");
  command->add_option("--json", options->json, "also write the results to this JSON file");
  command->add_flag("--embedding", options->embedding,
                    "also time Session::record's CPU cost per frame and the GPU image preprocessing");
  command->callback([options] {
    const Model model = load_model(options->model, false, !options->unconverted);
    auto runtime = open_runtime(options->model);
    Session session(runtime, model, session_options(options->model, options->batch, options->size));
    const size_t count = static_cast<size_t>(session.batch()) * session.input_channels() *
                         session.input_size() * session.input_size();
    std::vector<float> input(count);
    std::mt19937 generator(0);
    std::normal_distribution<float> normal;
    for (auto& v : input) v = normal(generator);

    for (uint32_t i = 0; i < options->warmup; ++i) session.run(input);
    std::vector<double> ms;
    for (uint32_t i = 0; i < options->iterations; ++i) {
      const auto start = std::chrono::steady_clock::now();
      session.run(input);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2], images_per_second = 1000.0 * session.batch() / median;
    const DeviceInfo& device = runtime->device();
    std::printf("%s (%s, %s) on %s [%s %s]\n", model.info().variant.c_str(), model.info().origin.c_str(),
                options->unconverted ? "unconverted" : "converted", device.name.c_str(),
                device.driver_name.c_str(), device.driver_info.c_str());
    std::printf(
        "batch %u, input %ux%u, %zu dispatches, %zu barriers, weights %.1f MiB (%s), activations %.1f MiB\n",
        session.batch(), session.input_size(), session.input_size(), session.dispatch_count(),
        session.barrier_count(), session.weight_bytes() / 1048576.0,
        options->model.precision == Precision::Fp16 ? "fp16" : "fp32",
        session.activation_bytes() / 1048576.0);
    std::printf("GEMM kernels: %s\n", session.kernel_family().c_str());
    const bool mapped = device.unified_memory;
    const std::string transfers =
        mapped ? "mapped in place"
               : "filled through staging in type " + std::to_string(device.upload_memory.type) +
                     ", read back through type " + std::to_string(device.readback_memory.type);
    std::printf("memory: weights and activations in type %d on heap %d (%s), %s\n", device.device_memory.type,
                device.device_memory.heap, device.device_memory.flags.c_str(), transfers.c_str());
    std::printf("latency over %u iterations: min %.2f ms, median %.2f ms, max %.2f ms; %.2f images/s\n",
                options->iterations, sorted.front(), median, sorted.back(), images_per_second);

    nlohmann::json result = {{"model", model.info().variant},
                             {"origin", model.info().origin},
                             {"config", model.info().config},
                             {"device", device.name},
                             {"driver", device.driver_name + " " + device.driver_info},
                             {"batch", session.batch()},
                             {"input_size", session.input_size()},
                             {"iterations", options->iterations},
                             {"dispatches", session.dispatch_count()},
                             {"converted", !options->unconverted},
                             {"precision", options->model.precision == Precision::Fp16 ? "fp16" : "fp32"},
                             {"weight_bytes", session.weight_bytes()},
                             {"kernels", session.kernel_family()},
                             {"memory",
                              {{"device_type", device.device_memory.type},
                               {"device_heap", device.device_memory.heap},
                               {"mapped", mapped}}},
                             {"ms", {{"min", sorted.front()}, {"median", median}, {"max", sorted.back()}}},
                             {"images_per_second", images_per_second}};
    if (options->embedding) {
      const EmbeddingCosts costs = measure_embedding_costs(runtime, session, model, 200);
      std::printf(
          "record into a host command buffer: %.1f us per frame (buffer input), %.1f us (image input)\n",
          costs.record_buffer_us, costs.record_image_us);
      result["embedding"] = {{"record_buffer_us", costs.record_buffer_us},
                             {"record_image_us", costs.record_image_us}};
      if (costs.preprocess_ms >= 0) {
        std::printf(
            "image preprocessing on the GPU (%ux%u RGBA8 -> %u, per batch): %.3f ms device time, %.1f%% of "
            "the network's %.3f ms\n",
            costs.image_width, costs.image_height, session.input_size(), costs.preprocess_ms,
            100.0 * costs.preprocess_ms / costs.network_ms, costs.network_ms);
        result["embedding"]["preprocess_ms"] = costs.preprocess_ms;
        result["embedding"]["network_ms"] = costs.network_ms;
      }
      std::printf("the same preprocessing on the CPU (io::preprocess): %.3f ms\n", costs.host_preprocess_ms);
      result["embedding"]["host_preprocess_ms"] = costs.host_preprocess_ms;
    }
    if (options->per_layer) {
      const auto layers = session.profile(input);
      double total = 0, total_gflop = 0;
      std::printf("\n%-40s %-26s %-20s %4s %9s %8s %7s\n", "layer", "op", "output", "disp", "ms", "GFLOP/s",
                  "GB/s");
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& layer : layers) {
        total += layer.milliseconds;
        total_gflop += layer.gflop;
        const double rate = layer.milliseconds > 0 ? layer.gflop / (layer.milliseconds * 1e-3) : 0;
        const double bandwidth =
            layer.milliseconds > 0 ? layer.megabytes / layer.milliseconds : 0;  // MB/ms = GB/s
        std::printf("%-40s %-26s %-20s %4d %9.3f %8.2f %7.2f\n", layer.name.c_str(), layer.op.c_str(),
                    layer.output_shape.c_str(), layer.dispatches, layer.milliseconds, rate, bandwidth);
        rows.push_back({{"name", layer.name},
                        {"op", layer.op},
                        {"output", layer.output_shape},
                        {"dispatches", layer.dispatches},
                        {"ms", layer.milliseconds},
                        {"gflop", layer.gflop},
                        {"megabytes", layer.megabytes}});
      }
      std::printf("%-40s %-26s %-20s %4s %9.3f %8.2f\n", "total (device time)", "", "", "", total,
                  total > 0 ? total_gflop / (total * 1e-3) : 0);
      result["layers"] = rows;
      print_op_summary(layers);
    }
    if (!options->json.empty()) {
      std::ofstream out(options->json);
      if (!out) throw InputError(options->json + ": cannot write");
      out << result.dump(2) << "\n";
    }
  });
}

void add_inspect(CLI::App& app) {
  struct Options {
    ModelSelection model;
    uint32_t size = 0;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "inspect",
      "print the layer list as built and after each named pass (with --kernels, the kernel family's too)");
  add_model_options(*command, options->model, true);
  command->add_option("--size", options->size, "input size for the shapes (default: the model's)");
  command->callback([options, command] {
    const Model model = load_model(options->model, true);
    const ModelInfo& info = model.info();
    std::printf("%s %s (%s naming) from %s\n%s, %u classes, input %u, %s crop_pct %.3f\n\n",
                info.family.c_str(), info.variant.c_str(), info.naming.c_str(), info.origin.c_str(),
                info.config.c_str(), info.num_classes, info.preprocessing.input_size,
                info.preprocessing.interpolation.c_str(), info.preprocessing.crop_pct);
    // With --kernels, also the passes of that kernel family on the device (which needs one).
    const bool with_device = command->get_option("--kernels")->count() > 0;
    const std::shared_ptr<Runtime> runtime = with_device ? open_runtime(options->model) : nullptr;
    std::printf("%s", model.describe_passes(1, options->size, runtime, options->model.kernels).c_str());
  });
}

}  // namespace vkvision::cli
