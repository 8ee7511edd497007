// Epilogue activations (activation.glsl, specialisation constant ACTIVATION) <-> src/ops/activation.h.
#ifndef VKVISION_ACTIVATION_ABI_H
#define VKVISION_ACTIVATION_ABI_H

#define ACTIVATION_ID_NONE 0
#define ACTIVATION_ID_GELU 1
#define ACTIVATION_ID_RELU 2
#define ACTIVATION_ID_SIGMOID 3
#define ACTIVATION_ID_SILU 4

#endif
