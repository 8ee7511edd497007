// The passes' scaffold (ir/rewrite.h): the scan resumes where a rewrite says, and the shared matches
// find what the passes fold. Host-only: no device.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ir/rewrite.h"

namespace vkvision {
namespace {

using ir::Layer;
using ir::LayerList;
using ir::OpKind;

// input -> t0 -> t1 -> ... : one layer per op, each reading the previous one's output.
LayerList chain(const std::vector<OpKind>& ops) {
  LayerList list;
  std::string previous = list.input;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string output = "t" + std::to_string(i);
    list.layers.push_back(
        Layer{.op = ops[i], .name = "l" + std::to_string(i), .inputs = {previous}, .output = output});
    previous = output;
  }
  list.output = previous;
  return list;
}

std::vector<std::string> names(const LayerList& list) {
  std::vector<std::string> result;
  for (const Layer& layer : list.layers) result.push_back(layer.name);
  return result;
}

TEST(PassScaffoldTest, VisitsEachLayerOfTheOpsInOrderAndMovesOnWithoutAMatch) {
  const LayerList list = chain({OpKind::Linear, OpKind::Relu, OpKind::Gelu, OpKind::Relu, OpKind::Add});
  std::vector<size_t> visited;
  const LayerList result = ir::rewrite_each(list, {OpKind::Relu, OpKind::Gelu}, [&](LayerList&, size_t i) {
    visited.push_back(i);
    return ir::Resume{};
  });
  EXPECT_EQ(visited, (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(names(result), names(list));
}

TEST(PassScaffoldTest, ResumesAtTheIndexTheRewriteReturns) {
  // Absorbing each Relu into its producer and resuming at the same index reaches the next one.
  const LayerList list = chain({OpKind::Linear, OpKind::Relu, OpKind::Relu, OpKind::Linear, OpKind::Relu});
  std::vector<std::string> visited;
  const LayerList result = ir::rewrite_each(list, OpKind::Relu, [&](LayerList& l, size_t i) -> ir::Resume {
    visited.push_back(l.layers[i].name);
    ir::absorb(l, i - 1, i);
    return i;
  });
  EXPECT_EQ(visited, (std::vector<std::string>{"l1", "l2", "l4"}));
  EXPECT_EQ(names(result), (std::vector<std::string>{"l0", "l3"}));
  EXPECT_EQ(result.layers[0].output, "t2");
  EXPECT_EQ(result.layers[1].inputs[0], "t2");
  EXPECT_EQ(result.layers[1].output, result.output);

  // Resuming at 0 examines the earlier layers again; past the layer, not the layer itself.
  std::vector<size_t> rescanned, skipped;
  ir::rewrite_each(list, OpKind::Relu, [&](LayerList&, size_t i) -> ir::Resume {
    rescanned.push_back(i);
    return rescanned.size() == 2 ? ir::Resume{0} : ir::Resume{};
  });
  EXPECT_EQ(rescanned, (std::vector<size_t>{1, 2, 1, 2, 4}));
  ir::rewrite_each(list, OpKind::Relu, [&](LayerList&, size_t i) -> ir::Resume {
    skipped.push_back(i);
    return i + 2;
  });
  EXPECT_EQ(skipped, (std::vector<size_t>{1, 4}));
}

TEST(PassScaffoldTest, SoleProducerAndLinearReaderNeedASingleUse) {
  LayerList list = chain({OpKind::Conv2d, OpKind::Relu, OpKind::Linear});
  EXPECT_EQ(ir::sole_producer(list, size_t(1)), 0);
  EXPECT_EQ(ir::sole_producer(list, size_t(0)), -1);  // the network input has no producer
  EXPECT_EQ(ir::sole_linear_reader(list, "t1"), 2);
  EXPECT_EQ(ir::sole_linear_reader(list, "t0"), -1);  // read by the Relu
  EXPECT_EQ(ir::sole_linear_reader(list, "t2"), -1);  // the network's output
  list.layers[2].inputs.push_back("t1");              // a residual reading it too
  EXPECT_EQ(ir::sole_linear_reader(list, "t1"), -1);
  list.layers.push_back(Layer{.op = OpKind::Add, .name = "add", .inputs = {"t0", "t2"}, .output = "sum"});
  list.output = "sum";
  EXPECT_EQ(ir::sole_reader(list, "t2"), 3);
  EXPECT_EQ(ir::sole_reader(list, "t0"), -1);
}

TEST(PassScaffoldTest, ReplacingBranchesKeepsTheLaterBranchPosition) {
  LayerList list = chain({OpKind::Relu});
  list.layers.push_back(Layer{.op = OpKind::Conv2d, .name = "a", .inputs = {"t0"}, .output = "ta"});
  list.layers.push_back(Layer{.op = OpKind::Gelu, .name = "other", .inputs = {"t0"}, .output = "to"});
  list.layers.push_back(Layer{.op = OpKind::Conv2d, .name = "b", .inputs = {"t0"}, .output = "tb"});
  list.layers.push_back(Layer{.op = OpKind::Add, .name = "add", .inputs = {"tb", "ta"}, .output = "sum"});
  list.output = "sum";
  const auto branches = ir::sole_branch_producers(list, 4);
  ASSERT_TRUE(branches);
  EXPECT_EQ(*branches, (std::pair<size_t, size_t>{3, 1}));
  ir::replace_branches(list, 4, branches->first, branches->second,
                       Layer{.op = OpKind::Conv2d, .name = "a+b", .inputs = {"t0"}, .output = "sum"});
  EXPECT_EQ(names(list), (std::vector<std::string>{"l0", "other", "a+b"}));
  list.layers.push_back(Layer{.op = OpKind::Add, .name = "twice", .inputs = {"sum", "sum"}, .output = "out"});
  EXPECT_FALSE(ir::sole_branch_producers(list, 3));
}

}  // namespace
}  // namespace vkvision
