// The paths of the op checks, and every op's checks in one list (selftest/op_check.h).
#include "ops/gemm.h"
#include "ops/half_weights.h"
#include "selftest/op_check.h"
#include "selftest/ops/op_check_lists.h"

namespace vkvision::selftest {

std::string Path::name() const {
  std::string name = tiled                           ? "Tiled"
                     : operands == Operands::Texel   ? "Texel"
                     : operands == Operands::Storage ? "Storage"
                                                     : "";
  if (name.empty()) return half_weights ? "DefaultFp16" : "Default";
  return name + (half_weights ? "Fp16" : "Fp32");
}

std::string path_unsupported_reason(const DeviceInfo& device, const Path& path) {
  if (path.texel() && !device.texel_buffer_rgba32f) return "no RGBA32F uniform texel buffers";
  if (path.tiled)
    if (std::string reason = ops::gemm_tiled_unsupported_reason(device); !reason.empty()) return reason;
  if (path.half_weights) {
    if (std::string reason = ops::half_weights_unsupported_reason(device); !reason.empty()) return reason;
    const bool texel_weights = path.texel() && path.texel_weights;
    if (!ops::half_weights_supported(device, texel_weights))
      return texel_weights ? "no RGBA16F uniform texel buffers to read fp16 weights through"
                           : "no 16-bit storage buffers to read fp16 weights from";
  }
  return {};
}

DeviceInfo device_for(const DeviceInfo& device, const Path& path) {
  DeviceInfo info = device;
  if (path.operands == Path::Operands::Storage) info.texel_buffer_rgba32f = info.texel_buffer_rgba16f = false;
  return info;
}

CheckList all_op_checks() {
  CheckList list;
  for (auto add : kOpCheckLists) add(list);
  return list;
}

}  // namespace vkvision::selftest
