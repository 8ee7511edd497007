// image_resample_horizontal.comp, image_resample_vertical.comp, image_srgb_calibration.comp <->
// src/exec/image_input.cpp: GPU preprocessing of a host image (PIL's resample in two passes).
#ifndef VKVISION_IMAGE_RESAMPLE_ABI_H
#define VKVISION_IMAGE_RESAMPLE_ABI_H
#include "abi.h"

#define IMAGE_RESAMPLE_LOCAL_SIZE_X 64
// How a texel becomes the 8-bit value the CPU path decodes.
#define IMAGE_DECODE_UNORM 0  // round(v * 255)
#define IMAGE_DECODE_SRGB 1   // the byte whose calibrated decode is nearest to v
#define IMAGE_DECODE_FLOAT 2  // round(clamp(v, 0, 1) * 255)
// Descriptor bindings, set 0 (one per prepared image).
#define IMAGE_BINDING_SOURCE 0         // combined image sampler, read with texelFetch
#define IMAGE_BINDING_COLUMNS 1        // int: first[size], count[size], weights[size * taps]
#define IMAGE_BINDING_ROWS 2           // the same for the rows (first relative to the band)
#define IMAGE_BINDING_BAND 3           // uint: the horizontal pass's output, [band_rows, size, channels]
#define IMAGE_BINDING_NORMALISATION 4  // float: [channels, 256] normalised values of each byte
#define IMAGE_BINDING_SRGB_DECODE 5    // float: [2 formats, 256 bytes, 4 components], calibrated
// Set 1 (one per destination slice): the float32 CHW output.
#define IMAGE_BINDING_DESTINATION 0

VKV_PUSH_BEGIN(ImageResamplePush)
VKV_UINT(size)                // the crop's side
VKV_UINT(channels)            // the model's: 1 (PIL's luma of RGB) or 3
VKV_UINT(band_rows)           // source rows the vertical window reads
VKV_UINT(column_taps)         // weights stored per column position
VKV_UINT(row_taps)            // ... per row position
VKV_UINT(band_origin_y)       // the image row of band row 0
VKV_UINT(decode)              // IMAGE_DECODE_*
VKV_UINT(srgb_table)          // which calibrated sRGB decode (0: R8G8B8A8, 1: B8G8R8A8)
VKV_UINT(destination_offset)  // floats from the destination binding's start
VKV_PUSH_END(ImageResamplePush, 36)

#endif
