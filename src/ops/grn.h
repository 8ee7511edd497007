// ConvNeXt V2's Global Response Normalisation, GRN(x) = x + gamma * x * N(x) + beta with
// N = G / (mean_c G + eps) and G each channel's L2 norm over the pixels, in three steps that leave the
// map itself to the Linear that reads it: spatial_l2_norm (G, a reduction over the pixels), grn_scale
// (s = 1 + gamma * N per image and channel), then X * s as that Linear's input scale (gemm.h
// GemmBuffers::input_scale; beta folds into its bias). Kernels: shaders/mean_pool.comp's
// spatial_l2_norm variant and shaders/grn_scale.comp.
#pragma once
#include "vk/program.h"

namespace vkvision::ops {

// [n, pixels, channels] -> [n, channels]: sqrt of the sum of squares over the pixels.
vk::Dispatch spatial_l2_norm(const DeviceInfo& device, uint32_t n, uint32_t pixels, uint32_t channels,
                             const vk::BufferSlice& input, const vk::BufferSlice& output);

// norms [n, channels], gamma [channels] -> scale [n, channels].
vk::Dispatch grn_scale(const DeviceInfo& device, uint32_t n, uint32_t channels, float eps,
                       const vk::BufferSlice& norms, const vk::BufferSlice& gamma,
                       const vk::BufferSlice& scale);

}  // namespace vkvision::ops
