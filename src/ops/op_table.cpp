// The op table: one entry per OpKind, in enum order. An OpKind without its traits (ops::<name>_op in
// its src/ops/<name>_op.cpp) does not link; one in the wrong place is refused on first use.
#include <array>

#include "ops/op_traits.h"
#include "vkvision/error.h"

namespace vkvision::ops {

#define VKVISION_OP_TRAITS_DECLARATION(kind, name) extern const OpTraits name##_op;
VKVISION_OP_KINDS(VKVISION_OP_TRAITS_DECLARATION)
#undef VKVISION_OP_TRAITS_DECLARATION

namespace {

#define VKVISION_OP_TRAITS_ENTRY(kind, name) &name##_op,
const std::array kOpTable = {VKVISION_OP_KINDS(VKVISION_OP_TRAITS_ENTRY)};
#undef VKVISION_OP_TRAITS_ENTRY
static_assert(kOpTable.size() == ir::kOpKindCount, "one traits entry per OpKind");

// Every entry names its own kind and fills every function.
bool table_is_consistent() {
  for (size_t i = 0; i < kOpTable.size(); ++i) {
    const OpTraits& traits = *kOpTable[i];
    if (size_t(traits.kind) != i || std::string_view(traits.name) != ir::op_name(traits.kind) ||
        !traits.infer_shape || !traits.attributes || !traits.gflop || !traits.pack ||
        !traits.reads_half_weights || !traits.lower)
      return false;
  }
  return true;
}

}  // namespace

const OpTraits& op_traits(ir::OpKind kind) {
  static const bool consistent = table_is_consistent();
  if (!consistent) throw Error("internal: the op table (src/ops/op_table.cpp) is inconsistent");
  const auto index = static_cast<size_t>(kind);
  if (index >= kOpTable.size()) throw Error("internal: no op of kind " + std::to_string(index));
  return *kOpTable[index];
}

double per_output_gflop(const ir::Layer&, const ir::Shape&, const ir::Shape& output) {
  return static_cast<double>(ir::shape_numel(output)) * 1e-9;
}

std::span<const float> parameter_values(const ir::Layer& layer, const std::string& role) {
  if (!layer.has_param(role)) return {};
  const ir::HostTensor& tensor = layer.param(role);
  return {tensor.values(), static_cast<size_t>(tensor.numel())};
}

}  // namespace vkvision::ops
