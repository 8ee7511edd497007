"""vkvision: image classifiers on any Vulkan device, from Python.

    import numpy as np, vkvision
    model = vkvision.Model.load("convnext_tiny.safetensors")   # or Model.preset("convnext_tiny")
    session = vkvision.Session(model, batch=1)                  # precision, kernels, device
    logits = session.run(np.zeros((1, 3, 224, 224), np.float32))
    for p in session.classify(["cat.png"], top=5)[0]:
        print(p.label, p.probability)

Errors raise vkvision.InputError (also a ValueError) or vkvision.DeviceError, both vkvision.Error,
with the library's one-line message; wrong argument types and shapes raise TypeError and ValueError.
The GIL is released while the device runs. docs/API.md has the C++ and C equivalents.
"""
from ._vkvision import (
    __version__,
    Device,
    DeviceError,
    Error,
    InputError,
    LayerTiming,
    Model,
    Prediction,
    Preprocessing,
    Preset,
    Runtime,
    Session,
    decode_image,
    devices,
    models,
    top_k,
)

__all__ = [
    "Device", "DeviceError", "Error", "InputError", "LayerTiming", "Model", "Prediction", "Preprocessing",
    "Preset", "Runtime", "Session", "decode_image", "devices", "models", "top_k",
]
