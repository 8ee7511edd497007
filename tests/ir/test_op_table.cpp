// The op table: one consistent entry per OpKind, and the epilogues it states are enforced.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ir/layer_list.h"
#include "ops/op_traits.h"
#include "vkvision/error.h"

namespace vkvision {
namespace {

TEST(OpTableTest, EveryOpKindHasItsOwnCompleteEntry) {
  std::set<std::string> names;
  for (size_t i = 0; i < ir::kOpKindCount; ++i) {
    const auto kind = static_cast<ir::OpKind>(i);
    const ops::OpTraits& traits = ops::op_traits(kind);
    EXPECT_EQ(traits.kind, kind);
    EXPECT_STREQ(traits.name, ir::op_name(kind));
    EXPECT_TRUE(traits.infer_shape && traits.attributes && traits.gflop && traits.pack &&
                traits.reads_half_weights && traits.lower)
        << traits.name;
    names.insert(traits.name);
  }
  EXPECT_EQ(names.size(), ir::kOpKindCount);
}

ir::LayerList relu_list() {
  ir::LayerList list;
  list.input_channels = 4;
  ir::Layer relu{.op = ir::OpKind::Relu, .name = "act", .inputs = {"input"}, .output = "out"};
  list.layers.push_back(relu);
  list.output = "out";
  return list;
}

TEST(OpTableTest, AnEpilogueTheOpsKernelsDoNotApplyIsRefusedNotDropped) {
  ir::LayerList list = relu_list();
  EXPECT_NO_THROW(ir::infer_shapes(list, 1, 2, 2));
  list.layers[0].activation = ops::Activation::Gelu;
  EXPECT_THROW(ir::infer_shapes(list, 1, 2, 2), InputError);
  list = relu_list();
  list.layers[0].residual = true;
  list.layers[0].inputs.push_back("input");
  EXPECT_THROW(ir::infer_shapes(list, 1, 2, 2), InputError);
}

}  // namespace
}  // namespace vkvision
