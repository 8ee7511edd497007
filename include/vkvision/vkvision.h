// vkvision: image classifiers on any Vulkan device.
//
//   auto runtime = vkvision::Runtime::create();                    // or Runtime::wrap(host handles)
//   auto model = vkvision::Model::load("convnext_tiny.safetensors");
//   vkvision::Session session(runtime, model, {.batch = 1});
//   std::vector<float> logits = session.run(nchw_input);           // [batch, classes]
//
// Threading (tests/api/test_threading.cpp, also run under ThreadSanitizer):
// - Runtime: share one across any number of threads. Sessions on different threads build and run
//   concurrently; their submits take turns on the runtime's one queue (each waited for before the
//   next), and the pipeline cache and cached kernel decisions are guarded.
// - Model: immutable once loaded; share it (or copies, which share one state) across threads and
//   sessions. Model::load and Model::preset may run on several threads at once, on the same file too.
// - Session: one thread at a time (it owns one recorded command buffer and its input/output
//   memory); it may move between threads between calls. For parallel inference give each thread
//   its own session; results are bit-identical to running them one after another.
// - A DeviceError from a lost or hung device (DeviceOptions::submit_timeout_ms) makes the runtime
//   unusable: every later call on it, from any thread, throws at once. Out of memory does not.
#pragma once
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vkvision/device.h"
#include "vkvision/embedding.h"
#include "vkvision/error.h"
#include "vkvision/image.h"
#include "vkvision/model.h"

namespace vkvision {

// The library's insides: declared here, defined in the library's sources only.
namespace detail {
struct RuntimeState;
struct ModelState;
struct SessionState;
struct Access;
}  // namespace detail

// The kernel family for GEMMs (linear layers, 1x1 convolutions). Auto chooses from the device's
// queried properties where they settle it, else by a one-time timed trial of both families whose
// result is cached beside the pipeline cache; Timed runs (or reuses) that trial on any device; forcing
// a family runs and tests it on any device.
enum class KernelFamily {
  Auto,
  RegisterBlocked,  // register tiles, operands through texel buffers where possible (lavapipe-class)
  SharedTiled,      // 64x64 tiles staged through shared memory (GPU-class)
  Timed,            // the faster of the two in the cached timed trial
};

// A Vulkan device with its pipeline cache. Create one per device and share it between sessions and
// threads: every member function is thread-safe. Only create() and wrap() make one.
class Runtime {
 public:
  // Opens the device DeviceOptions::device_index picks (or VKVISION_DEVICE). Throws DeviceError when
  // there is no such device, it lacks what vkvision needs (DeviceInfo::unsupported_reason), or
  // instance or device creation fails. Thread-safe.
  static std::shared_ptr<Runtime> create(const DeviceOptions& options = {});
  // Runs on a host application's device and queue; vkvision never destroys those handles. Throws
  // DeviceError when the device lacks what vkvision needs. Thread-safe (the queue's rule: see
  // ExternalDevice).
  static std::shared_ptr<Runtime> wrap(const ExternalDevice& device, const DeviceOptions& options = {});
  // The device's properties, as queried at creation. Throws nothing; thread-safe.
  const DeviceInfo& device() const;
  // Validation messages seen so far (with validation enabled; else empty). Throws nothing but
  // std::bad_alloc; thread-safe.
  std::vector<std::string> validation_messages() const;

 private:
  friend struct detail::Access;
  explicit Runtime(std::shared_ptr<detail::RuntimeState> state);
  std::shared_ptr<detail::RuntimeState> state_;
};

struct ModelOptions {
  std::string preset;    // a `vkvision models` name: checked against the file, or random weights
  bool optimize = true;  // run the folding and fusion passes
};

// A model's layer list and metadata, independent of any device. Copies share one state; a model is
// immutable, so every member function is thread-safe. Only load() and preset() make one.
class Model {
 public:
  // Loads a safetensors or PyTorch checkpoint; the family and configuration come from its tensors.
  // Tensors the file stores as aligned float32 are read in place from a read-only mapping of it that
  // the model keeps (sessions read it when they upload; its pages then go back to the kernel), so
  // host memory holds about one copy of the weights: the device's. The rest (other dtypes, tensors a
  // family converts at load) are float32 copies. Replace the file by renaming a new one over it, not
  // by rewriting it in place, while a model from it lives. Throws InputError, naming the file and
  // what is wrong, for an unreadable, truncated or malformed file, one that matches no family, or
  // one that is not options.preset. Thread-safe (several loads may run at once, of one file too).
  static Model load(const std::filesystem::path& weights, const ModelOptions& options = {});
  // A preset with seeded random weights (benchmarks and tests), held in host memory; the same name
  // and seed give the same weights. Throws InputError for a name `vkvision models` does not list.
  // Thread-safe.
  static Model preset(const std::string& name, uint32_t seed = 0, bool optimize = true);

  // Family, variant, classes, labels and preprocessing. Throws nothing; thread-safe.
  const ModelInfo& info() const;
  // The layer list as executed (after passes) and as built (before), one line per layer, with
  // shapes for `batch` images of input_size (0: the model's own). Throws InputError for an input
  // size the model cannot take. Thread-safe.
  std::string describe_layers(bool optimized, uint32_t batch = 1, uint32_t input_size = 0) const;
  // The layer list as built, then after each named pass in the order sessions run them: the
  // device-independent passes (when the model optimizes), then, given a runtime, the passes of the
  // kernel family `kernels` resolves to on its device (Auto as a session resolves it, which may
  // time a trial once per device). A pass that changes nothing is one line. Throws InputError for
  // an input size the model cannot take, DeviceError where the device cannot run `kernels`.
  // Thread-safe.
  std::string describe_passes(uint32_t batch = 1, uint32_t input_size = 0,
                              const std::shared_ptr<Runtime>& runtime = nullptr,
                              KernelFamily kernels = KernelFamily::Auto) const;

 private:
  friend struct detail::Access;
  explicit Model(std::shared_ptr<const detail::ModelState> state);
  std::shared_ptr<const detail::ModelState> state_;
};

struct LayerTiming {
  std::string name;
  std::string op;
  std::string output_shape;
  int dispatches = 0;
  double milliseconds = 0;
  double gflop = 0;
  // Bytes the layer must move at least once: its inputs, parameters and output (a lower bound on
  // its memory traffic, for a GB/s column beside GFLOP/s).
  double megabytes = 0;
};

// How weights are stored on the device. Fp16 stores the weights of convolutions, linear layers and
// partition FCs as IEEE half (half the weight memory and bandwidth) where the device can read them so
// (16-bit storage or RGBA16F texel buffers; a DeviceError where it can do neither); activations,
// biases, norms and every sum stay fp32. Logits move by about 1e-3 relative (weights rounded to 2^-11).
enum class Precision {
  Fp32,
  Fp16,
};

struct SessionOptions {
  uint32_t batch = 1;
  uint32_t input_size = 0;  // square input; 0 = the model's preprocessing size
  KernelFamily kernels = KernelFamily::Auto;
  Precision precision = Precision::Fp32;
};

// A model compiled for one device, batch and input size; run() is one submit of a command buffer
// recorded once, or one per sub-batch where the batch's activations exceed what one binding can
// address (maxStorageBufferRange): the session then runs sub_batch() images per submit, and only a
// single image that does not fit is refused (DeviceError). Its weights are packed and streamed to
// the device layer by layer; it keeps no host copy of them, and sessions of one model on one
// runtime with the same weight layout (kernel family, precision) share one device copy. Not
// thread-safe: one thread at a time per session (it may move between threads between calls); use
// one session per thread. Sessions of one runtime or model on different threads are safe.
class Session {
 public:
  // Compiles `model` for the runtime's device: plans memory, builds pipelines, uploads weights.
  // Throws InputError for batch 0 or an input size the model cannot take; DeviceError when the
  // device cannot (limits, out of memory or over DeviceOptions::device_memory_budget, a lost
  // runtime, or options.precision Fp16 where the device reads no half weights).
  Session(std::shared_ptr<Runtime> runtime, const Model& model, const SessionOptions& options = {});
  ~Session();
  // A moved-from session may only be destroyed or assigned to.
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // input: float32 NCHW [batch, channels, size, size], normalised. Returns logits [batch, classes].
  // Throws InputError when input has the wrong size; DeviceError when the device fails or hangs
  // (after which the runtime is unusable).
  std::vector<float> run(std::span<const float> input);
  // One run with a timestamp after every layer. Throws as run(), and DeviceError where the device
  // has no timestamps.
  std::vector<LayerTiming> profile(std::span<const float> input);

  // Records the whole inference, barriers included, into a command buffer the host owns and submits
  // (primary or secondary, outside a render pass, from a pool of the runtime's queue family), between
  // the host's vkBeginCommandBuffer and vkEndCommandBuffer; the host may record its own work before
  // and after it. Synchronisation at entry and exit: see Bindings. The first record with a distinct
  // input image writes its descriptors and resampling tables; later ones allocate nothing and
  // update no descriptors. Every execution of recorded commands uses the session's activations: run
  // them on one queue (the GPU then takes them in turn), or give each frame in flight its own session
  // (sessions of one model share its device weights). Throws InputError for bindings that do not
  // fit the session (sizes, formats, counts) and DeviceError where the device cannot sample the
  // image's format. Not thread-safe (the session's rule).
  void record(VkCommandBuffer commands, const Bindings& bindings);
  // Submits the inference to the runtime's queue (under ExternalDevice::lock_queue), waiting for and
  // signalling the host's semaphores, and returns at once. Bindings as for record(); the recording
  // is kept per distinct bindings, so submitting the same ones again records nothing. Several
  // submissions may be in flight; the queue runs them in turn. Throws as record(), and DeviceError
  // when the submit fails.
  Ticket submit(const Bindings& bindings = {}, const SubmitSync& sync = {});
  // The session's own input (Bindings without input): float32 NCHW as run() takes, written to the
  // session's input memory after waiting for submissions that read it. Throws InputError for a
  // wrong size.
  void write_input(std::span<const float> input);
  // The logits of the last finished submission without an output buffer, [batch, classes]. Waits for
  // that submission. Throws DeviceError on a lost device.
  std::vector<float> logits();
  // The CPU eval transform for this session's input size (Preprocessing of the model), for
  // write_input and run(). Throws as vkvision::preprocess.
  std::vector<float> preprocess(const Image& image) const;

  // What the session was compiled for. None of these throws.
  uint32_t batch() const;
  // Images per submit: batch(), or fewer where one batch's activations do not fit one binding.
  uint32_t sub_batch() const;
  uint32_t input_size() const;
  uint32_t input_channels() const;
  size_t dispatch_count() const;
  size_t barrier_count() const;
  // The GEMM family in use ("register" or "tiled") and how it was chosen.
  std::string kernel_family() const;
  uint64_t weight_bytes() const;
  uint64_t activation_bytes() const;

 private:
  friend struct detail::Access;
  std::unique_ptr<detail::SessionState> state_;
};

struct Prediction {
  uint32_t index = 0;
  float probability = 0;
  std::string label;
};

// Softmax over each row of logits [batch, classes], then the k most probable classes per row, named
// from labels ("class N" past its end). Throws nothing but std::bad_alloc; thread-safe (pure).
std::vector<std::vector<Prediction>> top_k(std::span<const float> logits, uint32_t classes, uint32_t k,
                                           const std::vector<std::string>& labels);

}  // namespace vkvision
