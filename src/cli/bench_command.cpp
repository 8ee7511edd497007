// `vkvision bench`: wall-clock latency of whole inferences (input copy, one submit, wait, output
// copy) under MLPerf's single-stream rule, after a cold start on an empty pipeline cache; optionally
// a per-layer device-time table from timestamp queries. One record per device and sweep point
// (cli/bench_record.h, docs/BENCH_FORMAT.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "api/state.h"
#include "cli/bench_record.h"
#include "cli/bench_sweep.h"
#include "cli/commands.h"
#include "cli/embedding_costs.h"
#include "io/sha256.h"

namespace vkvision::cli {

namespace {
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct BenchOptions {
  ModelSelection model;
  uint32_t batch = 1, iterations = 10, warmup = 2, size = 0;
  double min_seconds = 0;
  bool per_layer = false, unconverted = false, embedding = false, all_devices = false;
  std::vector<std::string> sweep;
  std::string json;
};

// A fresh directory for one cold start's pipeline cache, removed with this object: the user's own
// cache is neither read nor touched.
class TemporaryCacheDirectory {
 public:
  TemporaryCacheDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vkvision-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary cache directory");
    path_ = pattern;
  }
  ~TemporaryCacheDirectory() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TemporaryCacheDirectory(const TemporaryCacheDirectory&) = delete;
  TemporaryCacheDirectory& operator=(const TemporaryCacheDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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

// --per-layer: prints the table and the op summary; returns the record's "layers".
nlohmann::json profile_layers(Session& session, const std::vector<float>& input) {
  const auto layers = session.profile(input);
  double total = 0, total_gflop = 0;
  std::printf("\n%-40s %-26s %-20s %4s %9s %8s %7s\n", "layer", "op", "output", "disp", "ms", "GFLOP/s",
              "GB/s");
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& layer : layers) {
    total += layer.milliseconds;
    total_gflop += layer.gflop;
    const double rate = layer.milliseconds > 0 ? layer.gflop / (layer.milliseconds * 1e-3) : 0;
    const double bandwidth = layer.milliseconds > 0 ? layer.megabytes / layer.milliseconds : 0;  // GB/s
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
  print_op_summary(layers);
  return rows;
}

// --embedding: prints the costs; returns the record's "embedding".
nlohmann::json embedding_costs(const std::shared_ptr<Runtime>& runtime, Session& session,
                               const Model& model) {
  const EmbeddingCosts costs = measure_embedding_costs(runtime, session, model, 200);
  std::printf("record into a host command buffer: %.1f us per frame (buffer input), %.1f us (image input)\n",
              costs.record_buffer_us, costs.record_image_us);
  nlohmann::json result = {{"record_buffer_us", costs.record_buffer_us},
                           {"record_image_us", costs.record_image_us}};
  if (costs.preprocess_ms >= 0) {
    std::printf(
        "image preprocessing on the GPU (%ux%u RGBA8 -> %u, per batch): %.3f ms device time, %.1f%% of "
        "the network's %.3f ms\n",
        costs.image_width, costs.image_height, session.input_size(), costs.preprocess_ms,
        100.0 * costs.preprocess_ms / costs.network_ms, costs.network_ms);
    result["preprocess_ms"] = costs.preprocess_ms;
    result["network_ms"] = costs.network_ms;
  }
  std::printf("the same preprocessing on the CPU (io::preprocess): %.3f ms\n", costs.host_preprocess_ms);
  result["host_preprocess_ms"] = costs.host_preprocess_ms;
  return result;
}

std::vector<float> random_input(const Session& session) {
  const size_t count = static_cast<size_t>(session.batch()) * session.input_channels() *
                       session.input_size() * session.input_size();
  std::vector<float> input(count);
  std::mt19937 generator(0);
  std::normal_distribution<float> normal;
  for (auto& v : input) v = normal(generator);
  return input;
}

// "forced by --kernels", "auto: device properties", "timed: cached trial", ... (docs/BENCH_FORMAT.md).
std::string kernels_reason(KernelFamily requested, const std::string& reason) {
  if (requested == KernelFamily::Auto) return "auto: " + reason;
  if (requested == KernelFamily::Timed) return "timed: " + reason;
  return reason == "requested" ? "forced by --kernels" : reason;
}

// MLPerf single-stream: at least min_iterations AND at least min_seconds of timed runs.
SteadyState run_steady_state(Session& session, const std::vector<float>& input, const BenchOptions& options) {
  SteadyState steady{
      .warmup = options.warmup, .min_iterations = options.iterations, .min_seconds = options.min_seconds};
  for (uint32_t i = 0; i < options.warmup; ++i) session.run(input);
  std::vector<double> ms;
  const auto start = Clock::now();
  while (keep_running(ms.size(), ms_since(start) / 1000.0, options.iterations, options.min_seconds)) {
    const auto iteration = Clock::now();
    session.run(input);
    ms.push_back(ms_since(iteration));
  }
  steady.seconds = ms_since(start) / 1000.0;
  steady.iterations = ms.size();
  steady.ms = summarize(std::move(ms));
  return steady;
}

// The model, the cold start and the session the steady state runs on. The cold runtime and session
// are destroyed (saving the pipeline cache into the empty directory) before a second runtime on the
// same directory compiles the warm session: a second session on the first runtime would reuse its
// in-memory pipelines and device weights instead of the warm cache file.
struct Prepared {
  Model model;
  std::shared_ptr<Runtime> runtime;
  Session session;
  ColdStart cold;
};

Prepared prepare(const BenchOptions& options, const ModelSelection& selection,
                 const SessionOptions& session_opts, const std::filesystem::path& cache) {
  DeviceOptions device_options{.device_index = selection.device, .cache_directory = cache};
  ColdStart cold;
  auto start = Clock::now();
  auto runtime = Runtime::create(device_options);
  cold.runtime_create = ms_since(start);
  start = Clock::now();
  Model model = load_model(selection, false, !options.unconverted);
  cold.model_load = ms_since(start);
  {
    start = Clock::now();
    Session first(runtime, model, session_opts);
    cold.session_compile_empty_cache = ms_since(start);
  }
  runtime.reset();
  runtime = Runtime::create(device_options);
  start = Clock::now();
  Session session(runtime, model, session_opts);
  cold.session_compile_warm_cache = ms_since(start);
  return {std::move(model), std::move(runtime), std::move(session), cold};
}

void print_summary(const BenchRecord& record, const Session& session, const Runtime& runtime) {
  const DeviceInfo& device = runtime.device();
  const ModelInfo& info = record.model.info;
  std::printf("%s (%s, %s) on %s [%s %s]\n", info.variant.c_str(), info.origin.c_str(),
              record.run.converted ? "converted" : "unconverted", device.name.c_str(),
              device.driver_name.c_str(), device.driver_info.c_str());
  std::printf(
      "batch %u, input %ux%u, %zu dispatches, %zu barriers, weights %.1f MiB (%s), activations %.1f MiB\n",
      session.batch(), session.input_size(), session.input_size(), session.dispatch_count(),
      session.barrier_count(), session.weight_bytes() / 1048576.0,
      precision_name(record.run.precision).c_str(), session.activation_bytes() / 1048576.0);
  std::printf("GEMM kernels: %s\n", session.kernel_family().c_str());
  const std::string transfers =
      device.unified_memory ? "mapped in place"
                            : "filled through staging in type " + std::to_string(device.upload_memory.type) +
                                  ", read back through type " + std::to_string(device.readback_memory.type);
  std::printf("memory: weights and activations in type %d on heap %d (%s), %s\n", device.device_memory.type,
              device.device_memory.heap, device.device_memory.flags.c_str(), transfers.c_str());
  const ColdStart& cold = record.cold_start;
  std::printf(
      "cold start: runtime %.1f ms, model load %.1f ms, session %.1f ms (empty pipeline cache), %.1f ms "
      "(warm), first inference %.2f ms\n",
      cold.runtime_create, cold.model_load, cold.session_compile_empty_cache, cold.session_compile_warm_cache,
      cold.first_inference);
  const SteadyState& steady = record.steady_state;
  std::printf("latency over %llu iterations: min %.2f ms, median %.2f ms, max %.2f ms; %.2f images/s\n",
              static_cast<unsigned long long>(steady.iterations), steady.ms.min, steady.ms.p50, steady.ms.max,
              1000.0 * session.batch() / steady.ms.mean);
  std::printf("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, mean %.2f ms (stddev %.2f) over %.2f s; %.2f GFLOP/s\n",
              steady.ms.p50, steady.ms.p90, steady.ms.p99, steady.ms.mean, steady.ms.stddev, steady.seconds,
              record.model.gflop * session.batch() / (steady.ms.p50 / 1000.0));
}

BenchRecord bench_one(const BenchOptions& options, int device_index, const SweepPoint& point,
                      const std::optional<std::string>& sha256) {
  ModelSelection selection = options.model;
  selection.device = device_index;
  selection.kernels = point.kernels;
  selection.precision = point.precision;
  const TemporaryCacheDirectory cache;
  Prepared prepared =
      prepare(options, selection, session_options(selection, point.batch, options.size), cache.path());
  Session& session = prepared.session;
  const std::vector<float> input = random_input(session);
  auto start = Clock::now();
  session.run(input);
  prepared.cold.first_inference = ms_since(start);

  BenchRecord record;
  record.build = build_info();
  record.host = probe_host();
  record.device = prepared.runtime->device();
  const exec::Plan& plan = *detail::Access::state(session).plan;
  record.model = {prepared.model.info(), std::nullopt, sha256, plan.gflop() / session.batch(),
                  plan.parameter_count()};
  if (!selection.weights.empty()) record.model.file = selection.weights;
  record.run = {.batch = session.batch(),
                .input_size = session.input_size(),
                .precision = point.precision,
                .kernels = plan.kernel_choice().family,
                .kernels_requested = point.kernels,
                .kernels_reason = kernels_reason(point.kernels, plan.kernel_choice().reason),
                .converted = !options.unconverted,
                .dispatches = session.dispatch_count(),
                .barriers = session.barrier_count()};
  record.cold_start = prepared.cold;
  record.steady_state = run_steady_state(session, input, options);
  record.weight_bytes = session.weight_bytes();
  record.activation_bytes = session.activation_bytes();
  print_summary(record, session, *prepared.runtime);
  if (options.embedding) record.embedding = embedding_costs(prepared.runtime, session, prepared.model);
  if (options.per_layer) record.layers = profile_layers(session, input);
  record.peak_rss_bytes = peak_rss_bytes();
  record.created = utc_now();
  return record;
}

// --all-devices: every device vkvision can run on, the others named on stderr; else --device's.
std::vector<int> devices_to_bench(const BenchOptions& options) {
  if (!options.all_devices) return {options.model.device};
  std::vector<int> indices;
  for (const DeviceInfo& device : list_devices()) {
    if (device.unsupported_reason.empty())
      indices.push_back(static_cast<int>(device.index));
    else
      std::cerr << "vkvision: skipping device " << device.index << " (" << device.name
                << "): " << device.unsupported_reason << "\n";
  }
  if (indices.empty()) throw DeviceError("no Vulkan device vkvision can run on");
  return indices;
}

// The grid on every device asked for, then the file.
void run_bench(const BenchOptions& options) {
  const std::vector<SweepPoint> grid =
      parse_sweep(options.sweep, {options.batch, options.model.precision, options.model.kernels});
  if (options.model.weights.empty() && options.model.preset.empty())
    throw InputError("give --weights FILE or --model NAME");
  std::optional<std::string> sha256;
  if (!options.model.weights.empty()) sha256 = io::sha256_file(options.model.weights);
  // A point the device cannot run (fp16 weights it cannot read, no timestamps for --per-layer)
  // is named on stderr and the others still run and are written; the exit status is then 3.
  std::vector<BenchRecord> records;
  size_t failed = 0, points = 0;
  for (const int device : devices_to_bench(options))
    for (const SweepPoint& point : grid) {
      if (points++ > 0) std::printf("\n");
      try {
        records.push_back(bench_one(options, device, point, sha256));
      } catch (const DeviceError& error) {
        ++failed;
        std::fflush(stdout);
        std::cerr << "vkvision: " << (device < 0 ? "default device" : "device " + std::to_string(device))
                  << ", batch " << point.batch << ", " << precision_name(point.precision) << ", kernels "
                  << kernels_name(point.kernels) << ": device error: " << error.what() << "\n";
      }
    }
  if (!options.json.empty() && !records.empty()) {
    std::ofstream out(options.json);
    if (!out) throw InputError(options.json + ": cannot write");
    out << bench_file(records).dump(2) << "\n";
  }
  if (failed > 0)
    throw DeviceError(std::to_string(failed) + " of " + std::to_string(points) +
                      " bench runs failed (named above)" +
                      (records.empty() ? "" : "; the others are written"));
}

}  // namespace

void add_bench(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto* command =
      app.add_subcommand("bench", "measure latency and throughput (--model NAME uses random weights)");
  add_model_options(*command, options->model, false);
  command->add_option("--batch", options->batch, "batch size")->check(CLI::PositiveNumber);
  command->add_option("--iters", options->iterations, "timed iterations, at least")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--min-seconds", options->min_seconds,
                   "run until at least --iters iterations AND this many seconds (MLPerf single-stream)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--warmup", options->warmup, "untimed iterations first");
  command->add_option("--size", options->size, "input size (default: the model's)");
  command->add_flag("--per-layer", options->per_layer, "print device time per layer (timestamp queries)");
  command->add_flag("--unconverted", options->unconverted,
                    "run the layer list as built: branches, BatchNorm and activations as separate layers");
  command->add_option("--json", options->json,
                      "also write the records to this JSON file (docs/BENCH_FORMAT.md)");
  command->add_flag("--embedding", options->embedding,
                    "also time Session::record's CPU cost per frame and the GPU image preprocessing");
  command->add_flag("--all-devices", options->all_devices,
                    "one record per Vulkan device vkvision can run on (instead of --device)");
  command->add_option("--sweep", options->sweep,
                      "one record per point of a grid: batch=1,8 precision=fp32,fp16 "
                      "kernels=auto,register,tiled,timed (any of the keys)");
  command->callback([options] { run_bench(*options); });
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
