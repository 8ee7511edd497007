// Runtime::wrap on a host application's device (support/host_device.h): what the host enabled is
// honoured (a wrapped session computes what a created one computes, fp16 weights included), what it
// states wrongly is refused in one line before any Vulkan call that would be invalid, vkvision's
// submits take the host's queue lock, destroying vkvision never waits on the host's work, and the
// cache directory option decides where files go. Every test also checks both messengers: the
// host's own and the runtime's (VKVISION_VALIDATION=sync).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/state.h"
#include "io/image.h"
#include "support/host_device.h"
#include "support/paths.h"
#include "support/scoped_profile.h"
#include "support/test_directory.h"
#include "vkvision/vkvision.h"

namespace vkvision {
namespace {

using testing::HostDevice;
using testing::HostDeviceOptions;
using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

const Model& bundled_model() {
  static const Model model = Model::load(testing::source_dir() / "models" / "convnext_fmnist.safetensors");
  return model;
}

// A sample image through the CLI's eval transform (io::preprocess with the model's preprocessing).
const std::vector<float>& sample_input() {
  static const std::vector<float> input = [] {
    const Preprocessing& p = bundled_model().info().preprocessing;
    io::PreprocessConfig config;
    config.input_size = static_cast<int>(p.input_size);
    config.crop_pct = p.crop_pct;
    config.interpolation =
        p.interpolation == "bilinear" ? io::Interpolation::Bilinear : io::Interpolation::Bicubic;
    config.channels = static_cast<int>(p.channels);
    config.mean = p.mean;
    config.std = p.std;
    return io::preprocess(io::decode_image(testing::source_dir() / "samples" / "0000_ankle_boot.png"),
                          config);
  }();
  return input;
}

// Register-blocked for every session: Auto could time a trial and pick differently per runtime.
SessionOptions session_options(Precision precision = Precision::Fp32) {
  return {.kernels = KernelFamily::RegisterBlocked, .precision = precision};
}

void expect_no_messages(const HostDevice& host) {
  for (const auto& message : host.messages()) ADD_FAILURE() << "host's messenger: " << message;
}

void expect_no_messages(const Runtime& runtime) {
  for (const auto& message : runtime.validation_messages())
    ADD_FAILURE() << "runtime's messenger: " << message;
}

// Bit for bit: the same kernels in the same order must give the same floats.
void expect_same_bits(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  EXPECT_EQ(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)), 0)
      << "first logits " << actual[0] << " vs " << expected[0];
}

// What one session gives: its logits and weight bytes, or the DeviceError it was refused with.
struct Outcome {
  std::vector<float> logits;
  uint64_t weight_bytes = 0;
  std::string error;
};

Outcome run_session(const std::shared_ptr<Runtime>& runtime, Precision precision) {
  Outcome outcome;
  try {
    Session session(runtime, bundled_model(), session_options(precision));
    outcome.weight_bytes = session.weight_bytes();
    outcome.logits = session.run(sample_input());
  } catch (const DeviceError& error) {
    outcome.error = error.what();
  }
  return outcome;
}

void expect_same_outcome(const Outcome& wrapped, const Outcome& created) {
  EXPECT_EQ(wrapped.error, created.error);
  EXPECT_EQ(wrapped.weight_bytes, created.weight_bytes);
  expect_same_bits(wrapped.logits, created.logits);
}

// Runtime::create's results, the references: on the device as it is, and through a device profile
// that only takes storageBuffer16BitAccess away (what a device without the feature gives). Under a
// suite-wide profile (tools/test_profiles.sh) the second exists only where that profile's device
// already lacks the feature: a profile of this test's would replace the suite's.
struct References {
  Outcome fp32, fp16;
  std::optional<Outcome> fp16_without_16bit_storage;
};

const References& references() {
  static const References references = [] {
    References r;
    bool storage_buffer_16bit = false;
    {
      auto runtime = Runtime::create();
      storage_buffer_16bit = runtime->device().storage_buffer_16bit;
      r.fp32 = run_session(runtime, Precision::Fp32);
      r.fp16 = run_session(runtime, Precision::Fp16);
      expect_no_messages(*runtime);
    }
    if (!storage_buffer_16bit) {
      r.fp16_without_16bit_storage = r.fp16;
      return r;
    }
    const char* suite_profile = std::getenv("VKVISION_DEVICE_PROFILE");
    if (suite_profile && suite_profile[0] != '\0') return r;
    const auto profile = std::filesystem::temp_directory_path() /
                         ("vkvision-no-16bit-storage-" + std::to_string(::getpid()) + ".json");
    std::ofstream(profile) << R"({"description": "the real device without storageBuffer16BitAccess",
                                  "modelled_on": "the real device",
                                  "features": {"storageBuffer16BitAccess": false}})";
    try {
      testing::ScopedProfile scoped(profile.string());
      auto runtime = Runtime::create();
      EXPECT_FALSE(runtime->device().storage_buffer_16bit);
      r.fp16_without_16bit_storage = run_session(runtime, Precision::Fp16);
      expect_no_messages(*runtime);
    } catch (const DeviceError& error) {  // a binary run by hand, without the layer on VK_ADD_LAYER_PATH
      std::printf("[ NOT RUN  ] no reference without 16-bit storage: %s\n", error.what());
    }
    std::filesystem::remove(profile);
    return r;
  }();
  return references;
}

struct FeatureSet {
  const char* name;
  HostDeviceOptions options;
};

void PrintTo(const FeatureSet& set, std::ostream* out) { *out << set.name; }

class WrapFeaturesTest : public ::testing::TestWithParam<FeatureSet> {};

TEST_P(WrapFeaturesTest, SessionsMatchRuntimeCreateBitForBit) {
  const HostDeviceOptions& options = GetParam().options;
  const References& expected = references();
  HostDevice host(options);
  {
    auto runtime = Runtime::wrap(host.external());
    const DeviceInfo& info = runtime->device();
    EXPECT_EQ(info.storage_buffer_16bit, bool(host.enabled().vulkan11.storageBuffer16BitAccess));
    EXPECT_EQ(info.shader_float16, bool(host.enabled().vulkan12.shaderFloat16));
    EXPECT_EQ(info.timeline_semaphore, bool(host.enabled().vulkan12.timelineSemaphore));
    if (!options.storage_buffer_16bit) {
      EXPECT_FALSE(info.storage_buffer_16bit);
    }
    if (!options.shader_float16) {
      EXPECT_FALSE(info.shader_float16);
    }
    if (!options.timeline_semaphore) {
      EXPECT_FALSE(info.timeline_semaphore);
    }
    EXPECT_EQ(info.memory_budget,
              !host.device_extensions().empty() &&
                  std::find(host.device_extensions().begin(), host.device_extensions().end(),
                            VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) != host.device_extensions().end());

    expect_same_outcome(run_session(runtime, Precision::Fp32), expected.fp32);
    const Outcome fp16 = run_session(runtime, Precision::Fp16);
    if (info.storage_buffer_16bit) {
      expect_same_outcome(fp16, expected.fp16);
    } else if (expected.fp16_without_16bit_storage) {
      expect_same_outcome(fp16, *expected.fp16_without_16bit_storage);
    } else {
      std::printf("[ NOT RUN  ] fp16 without 16-bit storage: no reference (see above)\n");
    }
    std::printf("[ WEIGHTS  ] %s: fp16 %llu bytes (created: %llu, created without 16-bit storage: %llu)\n",
                GetParam().name, static_cast<unsigned long long>(fp16.weight_bytes),
                static_cast<unsigned long long>(expected.fp16.weight_bytes),
                static_cast<unsigned long long>(expected.fp16_without_16bit_storage
                                                    ? expected.fp16_without_16bit_storage->weight_bytes
                                                    : 0));
    expect_no_messages(*runtime);
  }
  expect_no_messages(host);
}

INSTANTIATE_TEST_SUITE_P(EnabledFeatures, WrapFeaturesTest,
                         ::testing::Values(FeatureSet{"WholeContract", {}},
                                           FeatureSet{"No16BitStorage", {.storage_buffer_16bit = false}},
                                           FeatureSet{"NoFloat16", {.shader_float16 = false}},
                                           FeatureSet{"NoTimelineSemaphore", {.timeline_semaphore = false}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(WrapTest, ContractListsWhatCreateEnables) {
  HostDevice host;
  const DeviceContract contract = device_contract(host.physical_device());
  EXPECT_EQ(contract.api_version, VK_API_VERSION_1_2);
  EXPECT_EQ(contract.unsupported_reason, "");
  EXPECT_EQ(contract.queue_family, int(host.queue_family()));
  EXPECT_EQ(contract.features.features.robustBufferAccess, VK_FALSE);
  auto runtime = Runtime::create();
  EXPECT_EQ(bool(contract.vulkan11.storageBuffer16BitAccess), runtime->device().storage_buffer_16bit);
  EXPECT_EQ(bool(contract.vulkan12.shaderFloat16), runtime->device().shader_float16);
  EXPECT_EQ(bool(contract.vulkan12.timelineSemaphore), runtime->device().timeline_semaphore);
  DeviceContract copy = contract;
  VkPhysicalDeviceFeatures2* chain = copy.chain();
  EXPECT_EQ(chain, &copy.features);
  EXPECT_EQ(copy.features.pNext, &copy.vulkan11);
  EXPECT_EQ(copy.vulkan11.pNext, &copy.vulkan12);
  EXPECT_EQ(copy.vulkan12.pNext, nullptr);
  expect_no_messages(*runtime);
  expect_no_messages(host);
}

// The refusal `call` throws, checked to be one line.
template <typename ErrorType, typename Call>
std::string refusal(Call call) {
  try {
    call();
  } catch (const ErrorType& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no refusal";
  return {};
}

TEST(WrapTest, RefusesApiVersionZero) {
  HostDevice host;
  ExternalDevice external = host.external();
  external.api_version = 0;
  EXPECT_EQ(refusal<InputError>([&] { Runtime::wrap(external); }),
            "ExternalDevice::api_version is 0: state the apiVersion your VkInstance was created with "
            "(vkvision needs 1.2 or later)");
  expect_no_messages(host);
}

TEST(WrapTest, RefusesStatedVulkan10) {
  HostDevice host;
  ExternalDevice external = host.external();
  external.api_version = VK_API_VERSION_1_0;
  EXPECT_EQ(
      refusal<DeviceError>([&] { Runtime::wrap(external); }),
      "the host's instance was created with Vulkan 1.0.0 (ExternalDevice::api_version); vkvision needs 1.2 "
      "(its shaders are SPIR-V 1.5)");
  expect_no_messages(host);
}

// A real Vulkan 1.0 instance: refused before vkvision makes any call that is invalid on one (the
// 1.1 property and feature queries), so the host's validation layer says nothing.
TEST(WrapTest, RefusesARealVulkan10InstanceWithoutValidationMessages) {
  HostDevice host({.api_version = VK_API_VERSION_1_0});
  EXPECT_EQ(
      refusal<DeviceError>([&] { Runtime::wrap(host.external()); }),
      "the host's instance was created with Vulkan 1.0.0 (ExternalDevice::api_version); vkvision needs 1.2 "
      "(its shaders are SPIR-V 1.5)");
  expect_no_messages(host);
}

TEST(WrapTest, RefusesAVulkan11Device) {
  std::optional<HostDevice> host;
  {
    testing::ScopedProfile profile("vulkan_1_1");  // read when the host creates its instance
    host.emplace();
  }
  const std::string message = refusal<DeviceError>([&] { Runtime::wrap(host->external()); });
  EXPECT_TRUE(message.starts_with("the host's device (")) << message;
  EXPECT_TRUE(message.ends_with(") supports Vulkan 1.1.0; vkvision needs 1.2 (its shaders are SPIR-V 1.5)"))
      << message;
  EXPECT_FALSE(device_contract(host->physical_device()).unsupported_reason.empty());
  expect_no_messages(*host);
}

TEST(WrapTest, RefusesNullHandles) {
  HostDevice host;
  ExternalDevice external = host.external();
  external.queue = VK_NULL_HANDLE;
  EXPECT_EQ(refusal<InputError>([&] { Runtime::wrap(external); }),
            "ExternalDevice: instance, physical_device, device and queue must all be set");
  expect_no_messages(host);
}

TEST(WrapTest, RefusesAQueueFamilyOutOfRange) {
  HostDevice host;
  ExternalDevice external = host.external();
  external.queue_family_index = 99;
  const std::string message = refusal<InputError>([&] { Runtime::wrap(external); });
  EXPECT_TRUE(message.starts_with("ExternalDevice::queue_family_index 99 does not exist: the device has "))
      << message;
  expect_no_messages(host);
}

TEST(WrapTest, RefusesLockWithoutUnlock) {
  HostDevice host;
  ExternalDevice external = host.external();
  host.use_queue_mutex(external);
  external.unlock_queue = nullptr;
  EXPECT_EQ(refusal<InputError>([&] { Runtime::wrap(external); }),
            "ExternalDevice: lock_queue and unlock_queue must be set together (or neither)");
  external = host.external();
  host.use_queue_mutex(external);
  external.lock_queue = nullptr;
  EXPECT_EQ(refusal<InputError>([&] { Runtime::wrap(external); }),
            "ExternalDevice: lock_queue and unlock_queue must be set together (or neither)");
  expect_no_messages(host);
}

TEST(WrapTest, RefusesValidationWithoutDebugUtils) {
  HostDevice host;
  ExternalDevice external = host.external();
  std::erase(external.enabled_instance_extensions, std::string(VK_EXT_DEBUG_UTILS_EXTENSION_NAME));
  EXPECT_EQ(
      refusal<DeviceError>([&] { Runtime::wrap(external, {.validation = true}); }),
      "validation requested (DeviceOptions::validation or VKVISION_VALIDATION) but the host's instance does "
      "not enable VK_EXT_debug_utils (ExternalDevice::enabled_instance_extensions): vkvision cannot add a "
      "layer or extension to an instance it did not create");
  expect_no_messages(host);
}

// vkvision's messenger on the host's instance hears what the instance reports (the host's own
// messages too): one injected message reaches both messengers.
TEST(WrapTest, ValidationMessagesReachTheRuntimesMessenger) {
  HostDevice host;
  auto runtime = Runtime::wrap(host.external(), {.validation = true});
  EXPECT_TRUE(runtime->validation_messages().empty());
  auto submit_message = reinterpret_cast<PFN_vkSubmitDebugUtilsMessageEXT>(
      vkGetInstanceProcAddr(host.instance(), "vkSubmitDebugUtilsMessageEXT"));
  ASSERT_NE(submit_message, nullptr);
  VkDebugUtilsMessengerCallbackDataEXT data{
      .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CALLBACK_DATA_EXT,
      .pMessage = "a message from the test"};
  submit_message(host.instance(), VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
                 VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT, &data);
  EXPECT_EQ(runtime->validation_messages(), std::vector<std::string>{"a message from the test"});
  EXPECT_EQ(host.messages(), std::vector<std::string>{"a message from the test"});
}

// A host render thread submitting to the same queue under its mutex while a session runs with
// lock_queue/unlock_queue on that mutex: the layer's thread-safety checks see no overlap.
TEST(WrapTest, QueueLockSharesTheQueueWithAHostThread) {
  HostDevice host;
  ExternalDevice external = host.external();
  host.use_queue_mutex(external);
  std::atomic<int> locks{0};
  external.lock_queue = [&host, &locks](VkQueue) {
    host.queue_mutex().lock();
    ++locks;
  };
  const std::vector<float> expected = references().fp32.logits;
  {
    auto runtime = Runtime::wrap(external);
    Session session(runtime, bundled_model(), session_options());

    const HostDevice::Buffer target = host.create_buffer(1 << 20, VK_BUFFER_USAGE_TRANSFER_DST_BIT, false);
    VkCommandBuffer fill = host.allocate_command_buffer(host.create_command_pool());
    VkCommandBufferBeginInfo begin{.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    ASSERT_EQ(vkBeginCommandBuffer(fill, &begin), VK_SUCCESS);
    vkCmdFillBuffer(fill, target.buffer, 0, VK_WHOLE_SIZE, 0x3f800000u);
    ASSERT_EQ(vkEndCommandBuffer(fill), VK_SUCCESS);

    std::atomic<bool> stop{false};
    std::atomic<int> host_submits{0};
    std::thread render([&] {
      while (!stop) {
        host.submit_and_wait(fill);
        ++host_submits;
      }
    });
    const int locks_before = locks.load();
    constexpr int kRuns = 30;
    std::thread inference([&] {
      for (int i = 0; i < kRuns; ++i) expect_same_bits(session.run(sample_input()), expected);
    });
    inference.join();
    stop = true;
    render.join();
    EXPECT_GE(locks.load() - locks_before, kRuns);
    EXPECT_GT(host_submits.load(), 0);
    std::printf("[ QUEUE    ] %d host submits beside %d runs\n", host_submits.load(), kRuns);
    expect_no_messages(*runtime);
  }
  expect_no_messages(host);
}

// Destroying a session and the runtime while the host's own long job runs on the shared queue
// waits for none of it.
TEST(WrapTest, DestructionDoesNotWaitForTheHostsWork) {
  HostDevice host;
  ExternalDevice external = host.external();
  host.use_queue_mutex(external);
  auto runtime = Runtime::wrap(external);
  auto session = std::make_unique<Session>(runtime, bundled_model(), session_options());
  expect_same_bits(session->run(sample_input()), references().fp32.logits);
  expect_no_messages(*runtime);

  host.wait(host.submit_long_job(std::chrono::milliseconds(1)));  // calibrates the job's length
  const auto job_start = Clock::now();
  VkFence job = host.submit_long_job(std::chrono::milliseconds(1500));
  const auto destruction_start = Clock::now();
  session.reset();
  runtime.reset();
  const double destruction_ms = milliseconds_since(destruction_start);
  host.wait(job);
  const double job_ms = milliseconds_since(job_start);
  std::printf("[ DESTROY  ] session + runtime destroyed in %.1f ms while the host's job ran %.1f ms\n",
              destruction_ms, job_ms);
  EXPECT_GT(job_ms, 400) << "the host's job is too short to tell a wait from none";
  EXPECT_LT(destruction_ms, job_ms / 4);
  expect_no_messages(host);
}

// Sets (or unsets, given nullopt) an environment variable for a scope.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) previous_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnvironment() {
    if (previous_)
      setenv(name_, previous_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

std::vector<std::filesystem::path> files_under(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::exists(directory)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

// cache_directory takes the files that would go under $HOME; disk_cache false writes none. The
// files are written where a runtime records a decision (at once) and saves its pipeline cache (when
// it is destroyed), so no session is needed: one would compile every pipeline anew in a fresh
// directory (minutes on lavapipe).
TEST(WrapTest, CacheDirectoryOptionDecidesWhereFilesGo) {
  testing::TestDirectory home("vkvision-fake-home"), cache("vkvision-cache"), unused("vkvision-no-cache");
  std::filesystem::create_directories(home.path());
  ScopedEnvironment fake_home("HOME", home.path().string());
  ScopedEnvironment no_xdg("XDG_CACHE_HOME", std::nullopt);
  ScopedEnvironment no_cache_dir("VKVISION_CACHE_DIR", std::nullopt);
  // Mesa may keep a shader cache of its own under $HOME; this test is about vkvision's files.
  ScopedEnvironment no_mesa_cache("MESA_SHADER_CACHE_DISABLE", "true");
  HostDevice host;
  {
    auto created = Runtime::create({.cache_directory = cache.path()});
    auto wrapped = Runtime::wrap(host.external(), {.cache_directory = cache.path() / "wrapped"});
    auto no_disk = Runtime::create({.cache_directory = unused.path(), .disk_cache = false});
    EXPECT_EQ(detail::Access::state(*created).pipelines->file().parent_path(), cache.path());
    EXPECT_EQ(detail::Access::state(*wrapped).pipelines->file().parent_path(), cache.path() / "wrapped");
    EXPECT_TRUE(detail::Access::state(*no_disk).pipelines->file().empty());
    EXPECT_TRUE(detail::Access::state(*no_disk).pipelines->decisions_file().empty());
    for (const auto& runtime : {created, wrapped, no_disk}) {
      vk::PipelineCache& pipelines = *detail::Access::state(*runtime).pipelines;
      pipelines.record_decision("test_decision", "kept");
      EXPECT_EQ(pipelines.decision("test_decision"), "kept");  // in memory without a disk cache too
      expect_no_messages(*runtime);
    }
  }
  for (const auto& directory : {cache.path(), cache.path() / "wrapped"}) {
    std::vector<std::string> names;
    for (const auto& file : files_under(directory))
      if (file.parent_path() == directory) names.push_back(file.filename().string().substr(0, 10));
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"decisions-", "pipelines-"})) << directory;
  }
  for (const auto& file : files_under(home.path())) ADD_FAILURE() << "written under HOME: " << file;
  for (const auto& file : files_under(unused.path()))
    ADD_FAILURE() << "written with disk_cache false: " << file;
  expect_no_messages(host);
}

}  // namespace
}  // namespace vkvision
