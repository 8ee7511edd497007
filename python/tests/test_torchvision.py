"""PyTorch's numbers from the file the user has: reduced torchvision ConvNeXt and Swin v1/v2
(Debian's torchvision 0.14, seeded random weights, every parameter non-trivial) saved as the
state_dict .pth a user would have, loaded by vkvision and compared logit by logit with torchvision's
own forward pass within the C++ tests' fp32 bound."""
import numpy as np
import pytest

import vkvision
from conftest import within_fp32_tolerance

torch = pytest.importorskip("torch")
tv_convnext = pytest.importorskip("torchvision.models.convnext")
tv_swin = pytest.importorskip("torchvision.models.swin_transformer")


def randomized(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("layer_scale"):
                parameter.copy_(0.3 + 0.7 * torch.rand(parameter.shape, generator=generator))
            elif parameter.dim() == 1 and "norm" in name and name.endswith("weight"):
                parameter.copy_(1.0 + 0.2 * noise)
            else:
                parameter.copy_(0.15 * noise)
    return model.eval()


def convnext():
    settings = [tv_convnext.CNBlockConfig(12, 20, 1), tv_convnext.CNBlockConfig(20, 36, 2),
                tv_convnext.CNBlockConfig(36, None, 1)]
    return tv_convnext.ConvNeXt(settings, num_classes=7, stochastic_depth_prob=0.0)


def swin(v2):
    return tv_swin.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 1], num_heads=[2, 4], window_size=[4, 4], num_classes=7,
        stochastic_depth_prob=0.0, block=tv_swin.SwinTransformerBlockV2 if v2 else tv_swin.SwinTransformerBlock,
        downsample_layer=tv_swin.PatchMergingV2 if v2 else tv_swin.PatchMerging)


@pytest.mark.parametrize("name, build, size", [
    ("convnext", convnext, 40),
    ("swin", lambda: swin(False), 32),
    ("swin_v2", lambda: swin(True), 32),
])
def test_logits_match_torchvision(tmp_path, runtime, name, build, size):
    model = randomized(build(), seed=len(name))
    path = tmp_path / f"{name}_torchvision.pth"
    torch.save(model.state_dict(), path)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = model(x).numpy()

    loaded = vkvision.Model.load(path)
    assert loaded.naming == "torchvision" and loaded.num_classes == 7
    session = vkvision.Session(loaded, batch=2, input_size=size, device=runtime)
    actual = session.run(x.numpy())
    assert within_fp32_tolerance(actual, expected) <= 1.0
