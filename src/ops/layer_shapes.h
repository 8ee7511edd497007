// A layer's kernel shapes (ops' own structs) from its attributes and tensor shapes, and the shape
// inference its convolution-like ops share.
#pragma once
#include <string>

#include "ir/layer_list.h"
#include "ops/conv2d.h"
#include "ops/gemm.h"
#include "ops/partition.h"

namespace vkvision::ops {

// The shape a Conv2d or DepthwiseConv2d layer runs with (the network's first layer reads NCHW).
Conv2dShape conv2d_shape(const ir::Layer& layer, const ir::Shape& input);
// A Linear over the last axis: M rows of K in, N out.
GemmShape gemm_shape(const ir::Shape& input, const ir::Shape& output);
PartitionShape partition_shape(const ir::Layer& layer, const ir::Shape& input);

// A convolution's output [N, OH, OW, OC], checking weight [OC, C/groups, KH, KW], bias [OC] and, when
// it carries one, its LayerNorm's affine [OC].
ir::Shape infer_convolution_shape(const ir::Layer& layer, const ir::Shape& input, bool depthwise);
// " 3x3/s1 pad 1" (+ " ceil", " groups G").
std::string convolution_attributes(const ir::Layer& layer);
// 2 * outputs * taps per output, for convolutions whose weight is [OC, IC/g, KH, KW].
double convolution_gflop(const ir::Layer& layer, const ir::Shape& input, const ir::Shape& output);

}  // namespace vkvision::ops
