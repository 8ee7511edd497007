// The all-MLP networks of timm's mlp_mixer.py: MLP-Mixer, gMixer, ResMLP (and deit's official ResMLP
// release) and gMLP.
#pragma once
#include "models/family.h"

namespace vkvision::models {

const Family& mlp_mixer_family();

}  // namespace vkvision::models
