// The C API (include/vkvision/vkvision_c.h) over the C++ one: every entry point runs its body in
// guarded(), which turns each exception into a status and the thread's last-error message.
#include "vkvision/vkvision_c.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "vkvision/vkvision.h"

struct vkv_runtime_t {
  std::shared_ptr<vkvision::Runtime> runtime;
};
struct vkv_model_t {
  vkvision::Model model;
};
struct vkv_session_t {
  vkvision::Session session;
  uint32_t classes;
};
struct vkv_ticket_t {
  vkvision::Ticket ticket;
};
struct vkv_image_t {
  vkvision::Image image;
};

namespace {

// A caller's mistake the C++ API cannot see (null pointers, small arrays): VKV_ERROR_INVALID_ARGUMENT.
class ArgumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

thread_local std::string last_error;

vkv_status fail(vkv_status status, const char* function, const char* message) noexcept {
  try {
    last_error = std::string(function) + ": " + message;
  } catch (...) {
    last_error.clear();  // no memory for the message: the status still says it
  }
  return status;
}

template <class Body>
vkv_status guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    last_error.clear();
    return VKV_SUCCESS;
  } catch (const ArgumentError& e) {
    return fail(VKV_ERROR_INVALID_ARGUMENT, function, e.what());
  } catch (const vkvision::InputError& e) {
    return fail(VKV_ERROR_INPUT, function, e.what());
  } catch (const vkvision::DeviceError& e) {
    return fail(VKV_ERROR_DEVICE, function, e.what());
  } catch (const std::bad_alloc&) {
    return fail(VKV_ERROR_OUT_OF_MEMORY, function, "out of host memory");
  } catch (const std::exception& e) {
    return fail(VKV_ERROR_INTERNAL, function, e.what());
  } catch (...) {
    return fail(VKV_ERROR_INTERNAL, function, "unknown exception");
  }
}

template <class Pointer>
void require(Pointer pointer, const char* name) {
  if (!pointer) throw ArgumentError(std::string(name) + " is null");
}

void require_capacity(uint64_t capacity, uint64_t needed, const char* name) {
  if (capacity < needed)
    throw ArgumentError(std::string(name) + " holds " + std::to_string(capacity) + ", " +
                        std::to_string(needed) + " needed");
}

// Copies text into a fixed-size field, truncated and always terminated.
template <size_t N>
void copy_text(char (&field)[N], const std::string& text) {
  const size_t length = std::min(text.size(), N - 1);
  std::memcpy(field, text.data(), length);
  field[length] = '\0';
}

void fill_device_info(const vkvision::DeviceInfo& device, vkv_device_info& info) {
  info = {};
  info.index = device.index;
  copy_text(info.name, device.name);
  copy_text(info.type, device.type);
  copy_text(info.driver_name, device.driver_name);
  copy_text(info.driver_info, device.driver_info);
  info.api_version = device.api_version;
  info.driver_version = device.driver_version;
  info.vendor_id = device.vendor_id;
  info.device_id = device.device_id;
  info.subgroup_size = device.subgroup_size;
  info.shader_float16 = device.shader_float16;
  info.storage_buffer_16bit = device.storage_buffer_16bit;
  info.timeline_semaphore = device.timeline_semaphore;
  info.timestamps = device.timestamps;
  info.timestamp_period_ns = device.timestamp_period_ns;
  info.max_storage_buffer_range = device.max_storage_buffer_range;
  copy_text(info.unsupported_reason, device.unsupported_reason);
}

vkvision::DeviceOptions device_options(const vkv_runtime_options* options) {
  vkv_runtime_options defaults;
  vkv_runtime_options_init(&defaults);
  const vkv_runtime_options& given = options ? *options : defaults;
  vkvision::DeviceOptions result;
  result.device_index = given.device_index;
  result.validation = given.validation != 0;
  if (given.cache_directory) result.cache_directory = given.cache_directory;
  result.disk_cache = given.disable_disk_cache == 0;
  result.device_memory_budget = given.device_memory_budget;
  if (given.submit_timeout_ms) result.submit_timeout_ms = given.submit_timeout_ms;
  return result;
}

std::vector<std::string> names(const char* const* array, uint32_t count, const char* what) {
  if (count) require(array, what);
  std::vector<std::string> result;
  for (uint32_t i = 0; i < count; ++i) {
    require(array[i], what);
    result.emplace_back(array[i]);
  }
  return result;
}

vkvision::ExternalDevice external_device(const vkv_external_device& device) {
  vkvision::ExternalDevice result;
  result.instance = device.instance;
  result.physical_device = device.physical_device;
  result.device = device.device;
  result.queue = device.queue;
  result.queue_family_index = device.queue_family_index;
  result.api_version = device.api_version;
  result.enabled_extensions =
      names(device.enabled_extensions, device.enabled_extension_count, "enabled_extensions");
  result.enabled_instance_extensions =
      names(device.enabled_instance_extensions, device.enabled_instance_extension_count,
            "enabled_instance_extensions");
  result.enabled_features = device.enabled_features;
  // Each left unset when null, so that Runtime::wrap refuses one without the other as it would.
  void* user_data = device.queue_user_data;
  if (auto lock = device.lock_queue)
    result.lock_queue = [lock, user_data](VkQueue queue) { lock(queue, user_data); };
  if (auto unlock = device.unlock_queue)
    result.unlock_queue = [unlock, user_data](VkQueue queue) { unlock(queue, user_data); };
  return result;
}

vkvision::SessionOptions session_options(const vkv_session_options* options) {
  vkvision::SessionOptions result;
  if (!options) return result;
  if (options->kernels < VKV_KERNELS_AUTO || options->kernels > VKV_KERNELS_TIMED)
    throw ArgumentError("kernels " + std::to_string(options->kernels) + " is no VKV_KERNELS_* value");
  if (options->precision < VKV_PRECISION_FP32 || options->precision > VKV_PRECISION_FP16)
    throw ArgumentError("precision " + std::to_string(options->precision) + " is no VKV_PRECISION_* value");
  result.batch = options->batch;
  result.input_size = options->input_size;
  result.kernels = static_cast<vkvision::KernelFamily>(options->kernels);
  result.precision = static_cast<vkvision::Precision>(options->precision);
  return result;
}

vkvision::BufferRange buffer_range(const vkv_buffer_range& range) {
  return {.buffer = range.buffer, .offset = range.offset, .size = range.size, .usage = range.usage};
}

vkvision::Bindings bindings_of(const vkv_bindings* bindings) {
  vkvision::Bindings result;
  if (!bindings) return result;
  result.input_buffer = buffer_range(bindings->input_buffer);
  result.output_buffer = buffer_range(bindings->output_buffer);
  if (bindings->input_image_count) require(bindings->input_images, "bindings->input_images");
  for (uint32_t i = 0; i < bindings->input_image_count; ++i) {
    const vkv_image_input& image = bindings->input_images[i];
    result.input_images.push_back({.view = image.view,
                                   .format = image.format,
                                   .width = image.width,
                                   .height = image.height,
                                   .layout = image.layout == VK_IMAGE_LAYOUT_UNDEFINED
                                                 ? VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL
                                                 : image.layout,
                                   .x = image.x,
                                   .y = image.y,
                                   .rect_width = image.rect_width,
                                   .rect_height = image.rect_height});
  }
  if (bindings->input_stages) result.input_stages = bindings->input_stages;
  if (bindings->input_access) result.input_access = bindings->input_access;
  result.output_stages = bindings->output_stages;
  result.output_access = bindings->output_access;
  return result;
}

vkvision::SubmitSync submit_sync(const vkv_submit_sync* sync) {
  vkvision::SubmitSync result;
  if (!sync) return result;
  if (sync->wait_count) {
    require(sync->wait_semaphores, "sync->wait_semaphores");
    require(sync->wait_stages, "sync->wait_stages");
    result.wait_semaphores.assign(sync->wait_semaphores, sync->wait_semaphores + sync->wait_count);
    result.wait_stages.assign(sync->wait_stages, sync->wait_stages + sync->wait_count);
    if (sync->wait_values) result.wait_values.assign(sync->wait_values, sync->wait_values + sync->wait_count);
  }
  result.signal_semaphore = sync->signal_semaphore;
  result.signal_value = sync->signal_value;
  return result;
}

uint64_t session_input_count(const vkvision::Session& session) {
  return uint64_t{session.batch()} * session.input_channels() * session.input_size() * session.input_size();
}

vkvision::Image image_of(const vkv_pixels& pixels) {
  vkvision::Image image{.width = pixels.width, .height = pixels.height, .channels = pixels.channels};
  // Other shapes are left without pixels for vkvision::preprocess to refuse, before any is read.
  const uint64_t count = uint64_t{pixels.width} * pixels.height;
  if ((pixels.channels != 1 && pixels.channels != 3) || count > (uint64_t{1} << 32)) return image;
  if (count) require(pixels.data, "pixels->data");
  image.pixels.assign(pixels.data, pixels.data + count * pixels.channels);
  return image;
}

}  // namespace

extern "C" {

const char* vkv_version(void) { return VKVISION_VERSION; }

const char* vkv_last_error(void) { return last_error.c_str(); }

vkv_status vkv_list_devices(vkv_device_info* devices, uint32_t capacity, uint32_t* count) {
  return guarded(__func__, [&] {
    require(count, "count");
    if (capacity) require(devices, "devices");
    const std::vector<vkvision::DeviceInfo> listed = vkvision::list_devices();
    for (size_t i = 0; i < listed.size() && i < capacity; ++i) fill_device_info(listed[i], devices[i]);
    *count = static_cast<uint32_t>(listed.size());
  });
}

vkv_status vkv_device_contract_query(VkPhysicalDevice physical_device, vkv_device_contract* contract) {
  return guarded(__func__, [&] {
    require(physical_device, "physical_device");
    require(contract, "contract");
    vkvision::DeviceContract found = vkvision::device_contract(physical_device);
    if (found.extensions.size() > std::size(contract->extensions))
      throw std::logic_error("the device contract lists more extensions than vkv_device_contract holds");
    *contract = {};
    contract->api_version = found.api_version;
    contract->extension_count = static_cast<uint32_t>(found.extensions.size());
    std::copy(found.extensions.begin(), found.extensions.end(), contract->extensions);
    contract->features = found.features;
    contract->vulkan11 = found.vulkan11;
    contract->vulkan12 = found.vulkan12;
    contract->queue_family = found.queue_family;
    copy_text(contract->unsupported_reason, found.unsupported_reason);
    vkv_device_contract_chain(contract, nullptr);
  });
}

VkPhysicalDeviceFeatures2* vkv_device_contract_chain(vkv_device_contract* contract, void* next) {
  if (!contract) return nullptr;
  contract->features.pNext = &contract->vulkan11;
  contract->vulkan11.pNext = &contract->vulkan12;
  contract->vulkan12.pNext = next;
  return &contract->features;
}

void vkv_runtime_options_init(vkv_runtime_options* options) {
  if (options) *options = {.device_index = -1};
}

vkv_status vkv_runtime_create(const vkv_runtime_options* options, vkv_runtime* runtime) {
  return guarded(__func__, [&] {
    require(runtime, "runtime");
    *runtime = new vkv_runtime_t{vkvision::Runtime::create(device_options(options))};
  });
}

vkv_status vkv_runtime_wrap(const vkv_external_device* device, const vkv_runtime_options* options,
                            vkv_runtime* runtime) {
  return guarded(__func__, [&] {
    require(device, "device");
    require(runtime, "runtime");
    *runtime = new vkv_runtime_t{vkvision::Runtime::wrap(external_device(*device), device_options(options))};
  });
}

void vkv_runtime_destroy(vkv_runtime runtime) { delete runtime; }

vkv_status vkv_runtime_device_info(vkv_runtime runtime, vkv_device_info* info) {
  return guarded(__func__, [&] {
    require(runtime, "runtime");
    require(info, "info");
    fill_device_info(runtime->runtime->device(), *info);
  });
}

vkv_status vkv_runtime_validation_message_count(vkv_runtime runtime, uint32_t* count) {
  return guarded(__func__, [&] {
    require(runtime, "runtime");
    require(count, "count");
    *count = static_cast<uint32_t>(runtime->runtime->validation_messages().size());
  });
}

vkv_status vkv_model_load(const char* path, vkv_model* model) {
  return guarded(__func__, [&] {
    require(path, "path");
    require(model, "model");
    *model = new vkv_model_t{vkvision::Model::load(path)};
  });
}

vkv_status vkv_model_preset(const char* name, uint32_t seed, vkv_model* model) {
  return guarded(__func__, [&] {
    require(name, "name");
    require(model, "model");
    *model = new vkv_model_t{vkvision::Model::preset(name, seed)};
  });
}

void vkv_model_destroy(vkv_model model) { delete model; }

vkv_status vkv_model_get_info(vkv_model model, vkv_model_info* info) {
  return guarded(__func__, [&] {
    require(model, "model");
    require(info, "info");
    const vkvision::ModelInfo& source = model->model.info();
    const vkvision::Preprocessing& preprocessing = source.preprocessing;
    *info = {.family = source.family.c_str(),
             .variant = source.variant.c_str(),
             .origin = source.origin.c_str(),
             .config = source.config.c_str(),
             .num_classes = source.num_classes,
             .input_size = preprocessing.input_size,
             .channels = preprocessing.channels,
             .crop_pct = preprocessing.crop_pct,
             .interpolation = preprocessing.interpolation.c_str()};
    for (size_t c = 0; c < std::size(info->mean) && c < preprocessing.mean.size(); ++c)
      info->mean[c] = preprocessing.mean[c];
    for (size_t c = 0; c < std::size(info->std) && c < preprocessing.std.size(); ++c)
      info->std[c] = preprocessing.std[c];
  });
}

vkv_status vkv_model_label(vkv_model model, uint32_t index, const char** label) {
  return guarded(__func__, [&] {
    require(model, "model");
    require(label, "label");
    const std::vector<std::string>& labels = model->model.info().labels;
    if (index >= labels.size())
      throw ArgumentError("index " + std::to_string(index) + " is past the model's " +
                          std::to_string(labels.size()) + " labels");
    *label = labels[index].c_str();
  });
}

vkv_status vkv_image_decode(const char* path, vkv_image* image) {
  return guarded(__func__, [&] {
    require(path, "path");
    require(image, "image");
    *image = new vkv_image_t{vkvision::decode_image(path)};
  });
}

vkv_status vkv_image_decode_memory(const void* bytes, uint64_t size, const char* name, vkv_image* image) {
  return guarded(__func__, [&] {
    if (size) require(bytes, "bytes");
    require(image, "image");
    const std::span<const std::byte> data(static_cast<const std::byte*>(bytes), size);
    *image = new vkv_image_t{vkvision::decode_image(data, name ? name : "image in memory")};
  });
}

void vkv_image_destroy(vkv_image image) { delete image; }

vkv_status vkv_image_pixels(vkv_image image, vkv_pixels* pixels) {
  return guarded(__func__, [&] {
    require(image, "image");
    require(pixels, "pixels");
    const vkvision::Image& source = image->image;
    *pixels = {.width = source.width,
               .height = source.height,
               .channels = source.channels,
               .data = source.pixels.data()};
  });
}

vkv_status vkv_session_create(vkv_runtime runtime, vkv_model model, const vkv_session_options* options,
                              vkv_session* session) {
  return guarded(__func__, [&] {
    require(runtime, "runtime");
    require(model, "model");
    require(session, "session");
    vkvision::Session compiled(runtime->runtime, model->model, session_options(options));
    *session = new vkv_session_t{std::move(compiled), model->model.info().num_classes};
  });
}

void vkv_session_destroy(vkv_session session) { delete session; }

vkv_status vkv_session_get_info(vkv_session session, vkv_session_info* info) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(info, "info");
    const vkvision::Session& source = session->session;
    *info = {.batch = source.batch(),
             .sub_batch = source.sub_batch(),
             .input_size = source.input_size(),
             .input_channels = source.input_channels(),
             .num_classes = session->classes,
             .input_count = session_input_count(source),
             .logits_count = uint64_t{source.batch()} * session->classes,
             .dispatch_count = source.dispatch_count(),
             .barrier_count = source.barrier_count(),
             .weight_bytes = source.weight_bytes(),
             .activation_bytes = source.activation_bytes()};
    copy_text(info->kernel_family, source.kernel_family());
  });
}

vkv_status vkv_session_run(vkv_session session, const float* input, uint64_t input_count, float* logits,
                           uint64_t logits_capacity) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(input, "input");
    require(logits, "logits");
    require_capacity(logits_capacity, uint64_t{session->session.batch()} * session->classes, "logits");
    const std::vector<float> result = session->session.run({input, input_count});
    std::copy(result.begin(), result.end(), logits);
  });
}

vkv_status vkv_session_profile(vkv_session session, const float* input, uint64_t input_count,
                               vkv_layer_timing* rows, uint32_t capacity, uint32_t* count) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(input, "input");
    require(count, "count");
    if (capacity) require(rows, "rows");
    const std::vector<vkvision::LayerTiming> timings = session->session.profile({input, input_count});
    for (size_t i = 0; i < timings.size() && i < capacity; ++i) {
      const vkvision::LayerTiming& timing = timings[i];
      rows[i] = {.dispatches = timing.dispatches,
                 .milliseconds = timing.milliseconds,
                 .gflop = timing.gflop,
                 .megabytes = timing.megabytes};
      copy_text(rows[i].name, timing.name);
      copy_text(rows[i].op, timing.op);
      copy_text(rows[i].output_shape, timing.output_shape);
    }
    *count = static_cast<uint32_t>(timings.size());
  });
}

vkv_status vkv_session_preprocess(vkv_session session, const vkv_pixels* pixels, float* input,
                                  uint64_t capacity) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(pixels, "pixels");
    require(input, "input");
    const vkvision::Session& source = session->session;
    require_capacity(capacity, uint64_t{source.input_channels()} * source.input_size() * source.input_size(),
                     "input");
    const std::vector<float> result = source.preprocess(image_of(*pixels));
    require_capacity(capacity, result.size(), "input");
    std::copy(result.begin(), result.end(), input);
  });
}

vkv_status vkv_top_k(const float* logits, uint64_t logits_count, uint32_t classes, uint32_t k,
                     vkv_model model, vkv_prediction* predictions, uint64_t capacity) {
  return guarded(__func__, [&] {
    require(logits, "logits");
    require(predictions, "predictions");
    if (classes == 0) throw ArgumentError("classes is 0");
    if (logits_count % classes)
      throw ArgumentError("logits_count " + std::to_string(logits_count) + " is no multiple of classes " +
                          std::to_string(classes));
    require_capacity(capacity, logits_count / classes * std::min(k, classes), "predictions");
    static const std::vector<std::string> no_labels;
    const auto rows =
        vkvision::top_k({logits, logits_count}, classes, k, model ? model->model.info().labels : no_labels);
    for (const auto& row : rows)
      for (const vkvision::Prediction& prediction : row) {
        *predictions = {.index = prediction.index, .probability = prediction.probability};
        copy_text(predictions->label, prediction.label);
        ++predictions;
      }
  });
}

vkv_status vkv_session_record(vkv_session session, VkCommandBuffer commands, const vkv_bindings* bindings) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(commands, "commands");
    session->session.record(commands, bindings_of(bindings));
  });
}

vkv_status vkv_session_submit(vkv_session session, const vkv_bindings* bindings, const vkv_submit_sync* sync,
                              vkv_ticket* ticket) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(ticket, "ticket");
    *ticket = new vkv_ticket_t{session->session.submit(bindings_of(bindings), submit_sync(sync))};
  });
}

vkv_status vkv_ticket_ready(vkv_ticket ticket, uint32_t* ready) {
  return guarded(__func__, [&] {
    require(ticket, "ticket");
    require(ready, "ready");
    *ready = ticket->ticket.ready();
  });
}

vkv_status vkv_ticket_wait(vkv_ticket ticket, uint64_t timeout_ns, uint32_t* finished) {
  return guarded(__func__, [&] {
    require(ticket, "ticket");
    require(finished, "finished");
    using std::chrono::nanoseconds;
    const uint64_t longest = static_cast<uint64_t>(nanoseconds::max().count());
    *finished =
        ticket->ticket.wait(nanoseconds(static_cast<nanoseconds::rep>(std::min(timeout_ns, longest))));
  });
}

void vkv_ticket_release(vkv_ticket ticket) { delete ticket; }

vkv_status vkv_session_write_input(vkv_session session, const float* input, uint64_t input_count) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(input, "input");
    session->session.write_input({input, input_count});
  });
}

vkv_status vkv_session_logits(vkv_session session, float* logits, uint64_t logits_capacity) {
  return guarded(__func__, [&] {
    require(session, "session");
    require(logits, "logits");
    require_capacity(logits_capacity, uint64_t{session->session.batch()} * session->classes, "logits");
    const std::vector<float> result = session->session.logits();
    std::copy(result.begin(), result.end(), logits);
  });
}

}  // extern "C"
