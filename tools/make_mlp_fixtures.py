#!/usr/bin/python3
"""All-MLP fixtures: small MLP-Mixer, gMixer, ResMLP and gMLP networks with seeded random weights, each run by
our re-expression of its PyTorch definition (module and parameter names as the sources have them), with
the logits for seeded inputs. Re-expressed sources:

- timm timm/models/mlp_mixer.py: MlpMixer, MixerBlock, Affine, ResBlock, SpatialGatingUnit,
  SpatialGatingBlock (and the gmixer_*/resmlp_*/gmlp_* entry points' arguments);
- timm timm/layers/mlp.py: Mlp, GluMlp, GatedMlp;
- facebookresearch/deit resmlp_models.py: Affine, layers_scale_mlp_blocks, resmlp_models (the official
  ResMLP naming).

What the sources fix and these modules follow:

- MlpMixer: stem.proj is a patch conv (kernel = stride = patch), tokens in row-major order
  (flatten(2).transpose(1, 2)); blocks; norm; mean over tokens (global_pool='avg'); head.
- MixerBlock: x += mlp_tokens(norm1(x).transpose(1, 2)).transpose(1, 2); x += mlp_channels(norm2(x));
  norms LayerNorm eps 1e-6; hidden sizes int(r * C) for mlp_ratio (0.5, 4.0), so the token MLP is
  Linear(T, C/2) -> GELU (exact) -> Linear(C/2, T).
- gMixer (gmixer_12_224/gmixer_24_224): MixerBlock with mlp_layer=GluMlp, act_layer=nn.SiLU,
  mlp_ratio=(1.0, 4.0). GluMlp's fc1 is Linear(in, hidden) (hidden = int(r * C), not 2 * hidden), its
  output chunks into x1, x2 (first and second halves) and with gate_last=True (the default) the result is
  x1 * SiLU(x2): the SECOND half is activated and gates the first. fc2 is Linear(hidden // 2, out).
- ResMLP (timm ResBlock, norm_layer=Affine): Affine alpha/beta of shape [1, 1, C], out = beta + alpha * x;
  x += ls1 * linear_tokens(norm1(x).transpose(1, 2)).transpose(1, 2); x += ls2 * mlp_channels(norm2(x))
  (Mlp, GELU, ratio 4); final norm is an Affine too. The official deit names: patch_embed.proj,
  blocks.N.norm1/norm2.alpha/beta of shape [C], blocks.N.attn (the token Linear), blocks.N.gamma_1/gamma_2
  [C], blocks.N.mlp.fc1/fc2, norm.alpha/beta [C], head; timm's checkpoint_filter_fn maps them
  (patch_embed. -> stem., attn. -> linear_tokens., mlp. -> mlp_channels., gamma_ -> ls, alpha/beta
  reshaped to [1, 1, C]), which is what resmlp_official.pth is: the same weights, renamed.
- gMLP (gmlp_*: SpatialGatingBlock, mlp_layer=GatedMlp, mlp_ratio=6): x += mlp_channels(norm(x)) with
  norm LayerNorm eps 1e-6; GatedMlp: fc1 Linear(C, 6C) -> GELU -> gate -> fc2 Linear(3C, C);
  SpatialGatingUnit: u, v = x.chunk(2, -1) (u the FIRST half, passed through; v the SECOND half, gated
  path), v = gate.norm(v) with nn.LayerNorm's default eps 1e-5 (SpatialGatingUnit's norm_layer is
  nn.LayerNorm and GatedMlp does not pass one), v = gate.proj(v.transpose(-1, -2)).transpose(-1, -2)
  (Linear(T, T) with bias; timm inits it std 1e-6 and bias 1, we use random values), out = u * v.

Files in tests/fixtures/mlp/: input28.npy [2,3,28,28] (patch 4 -> 7x7 = 49 tokens), input20.npy
[2,3,20,20] (patch 4 -> 5x5 = 25 tokens, for mixer25 only); mixer_timm.safetensors, mixer25_timm.safetensors,
gmixer_timm.safetensors, resmlp_timm.safetensors, resmlp_official.pth (bare state dict), gmlp_timm.safetensors
and <checkpoint name>_logits.npy for each. Weights: normal std 0.15 (0.1 for biases), norm scales and
Affine alpha 1 + 0.2 N(0,1), layer scales uniform 0.3..1, SGU proj bias 1 + 0.3 N(0,1).

Run: /usr/bin/python3 tools/make_mlp_fixtures.py   (writes tests/fixtures/mlp/)
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from safetensors_io import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mlp")
PATCH = 4
CLASSES = 7


class Mlp(nn.Module):
    """timm layers/mlp.py Mlp: fc1 -> act -> fc2."""

    def __init__(self, cin, hidden, act=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(cin, hidden)
        self.act = act()
        self.fc2 = nn.Linear(hidden, cin)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class GluMlp(nn.Module):
    """timm layers/mlp.py GluMlp (gate_last=True): fc1 to `hidden`, x1, x2 = halves, x1 * act(x2), fc2 from hidden // 2."""

    def __init__(self, cin, hidden, act=nn.SiLU):
        super().__init__()
        assert hidden % 2 == 0
        self.fc1 = nn.Linear(cin, hidden)
        self.act = act()
        self.fc2 = nn.Linear(hidden // 2, cin)

    def forward(self, x):
        x1, x2 = self.fc1(x).chunk(2, dim=-1)
        return self.fc2(x1 * self.act(x2))


class SpatialGatingUnit(nn.Module):
    def __init__(self, dim, tokens):
        super().__init__()
        self.norm = nn.LayerNorm(dim // 2)  # nn.LayerNorm's default eps 1e-5, as timm builds it
        self.proj = nn.Linear(tokens, tokens)

    def forward(self, x):
        u, v = x.chunk(2, dim=-1)
        v = self.proj(self.norm(v).transpose(-1, -2))
        return u * v.transpose(-1, -2)


class GatedMlp(nn.Module):
    def __init__(self, cin, hidden, tokens):
        super().__init__()
        self.fc1 = nn.Linear(cin, hidden)
        self.act = nn.GELU()
        self.gate = SpatialGatingUnit(hidden, tokens)
        self.fc2 = nn.Linear(hidden // 2, cin)

    def forward(self, x):
        return self.fc2(self.gate(self.act(self.fc1(x))))


class MixerBlock(nn.Module):
    def __init__(self, dim, tokens, ratio=(0.5, 4.0), mlp=Mlp, act=nn.GELU):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_tokens = mlp(tokens, int(ratio[0] * dim), act)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_channels = mlp(dim, int(ratio[1] * dim), act)

    def forward(self, x):
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))


class Affine(nn.Module):
    """timm's Affine: alpha, beta of shape [1, 1, C]."""

    def __init__(self, dim):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        return torch.addcmul(self.beta, self.alpha, x)


class ResBlock(nn.Module):
    def __init__(self, dim, tokens):
        super().__init__()
        self.norm1 = Affine(dim)
        self.linear_tokens = nn.Linear(tokens, tokens)
        self.norm2 = Affine(dim)
        self.mlp_channels = Mlp(dim, 4 * dim)
        self.ls1 = nn.Parameter(torch.ones(dim))
        self.ls2 = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x = x + self.ls1 * self.linear_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.ls2 * self.mlp_channels(self.norm2(x))


class SpatialGatingBlock(nn.Module):
    def __init__(self, dim, tokens, ratio=6):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp_channels = GatedMlp(dim, int(ratio * dim), tokens)

    def forward(self, x):
        return x + self.mlp_channels(self.norm(x))


class MlpMixer(nn.Module):
    """timm MlpMixer: stem.proj, blocks.N, norm, token mean, head (names as timm's state_dict)."""

    def __init__(self, dim, tokens, blocks, block, final_norm, patch=PATCH, classes=CLASSES):
        super().__init__()
        self.stem = nn.Module()
        self.stem.proj = nn.Conv2d(3, dim, patch, patch)
        self.blocks = nn.Sequential(*[block(dim, tokens) for _ in range(blocks)])
        self.norm = final_norm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.stem.proj(x).flatten(2).transpose(1, 2)
        return self.head(self.norm(self.blocks(x)).mean(dim=1))


class OfficialAffine(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return self.alpha * x + self.beta


class OfficialResBlock(nn.Module):
    """deit resmlp_models.py layers_scale_mlp_blocks."""

    def __init__(self, dim, tokens):
        super().__init__()
        self.norm1 = OfficialAffine(dim)
        self.attn = nn.Linear(tokens, tokens)
        self.norm2 = OfficialAffine(dim)
        self.mlp = Mlp(dim, 4 * dim)
        self.gamma_1 = nn.Parameter(torch.ones(dim))
        self.gamma_2 = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x = x + self.gamma_1 * self.attn(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.gamma_2 * self.mlp(self.norm2(x))


class OfficialResMLP(nn.Module):
    """deit resmlp_models.py resmlp_models: patch_embed.proj, blocks (ModuleList), norm (Affine), head."""

    def __init__(self, dim, tokens, blocks):
        super().__init__()
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, PATCH, PATCH)
        self.blocks = nn.ModuleList([OfficialResBlock(dim, tokens) for _ in range(blocks)])
        self.norm = OfficialAffine(dim)
        self.head = nn.Linear(dim, CLASSES)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


def randomize(model, seed):
    """Every tensor non-trivial: weights 0.15 N(0,1), biases 0.1 N(0,1), norm scales / Affine alpha
    1 + 0.2 N(0,1), layer scales 0.3..1, SGU proj bias 1 + 0.3 N(0,1) (timm's init would make the gate ~1)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape)
            if name.split(".")[-1] in ("ls1", "ls2", "gamma_1", "gamma_2"):
                p.copy_(0.3 + 0.7 * torch.rand(p.shape))
            elif name.endswith("alpha") or ("norm" in name and name.endswith("weight")):
                p.copy_(1.0 + 0.2 * noise)
            elif name.endswith("gate.proj.bias"):
                p.copy_(1.0 + 0.3 * noise)
            elif name.endswith("bias") or name.endswith("beta"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(0.15 * noise)
    return model.eval()


def check_every_tensor_matters(model, x):
    """Each parameter, nudged, moves the logits: no tensor is dead weight in the fixture. The exception is
    the Mixer token MLP's fc2 bias: it adds one constant to all channels of a token, which every following
    LayerNorm (norm2, the next norm1, the final norm) subtracts again, so no weights can make it matter."""
    base = logits_of(model, x)
    for name, p in model.named_parameters():
        if name.endswith("mlp_tokens.fc2.bias"):
            continue
        with torch.no_grad():
            saved = p.clone()
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(99)))
            moved = float((model(x) - base).abs().max())
            p.copy_(saved)
        assert moved > 1e-4, (name, moved)


def logits_of(model, x):
    with torch.no_grad():
        return model(x)


def save(model, x, name, official=False):
    state = model.state_dict()
    if official:
        torch.save(state, os.path.join(OUT, f"{name}.pth"))
    else:
        save_safetensors(os.path.join(OUT, f"{name}.safetensors"), {k: v.numpy() for k, v in state.items()}, {"format": "pt"})
    check_every_tensor_matters(model, x)
    logits = logits_of(model, x)
    np.save(os.path.join(OUT, f"{name}_logits.npy"), logits.numpy().astype(np.float32))
    return logits


def official_resmlp_name(name):
    """timm ResMLP key -> deit key (the inverse of timm's checkpoint_filter_fn)."""
    name = name.replace("stem.", "patch_embed.").replace("linear_tokens.", "attn.").replace("mlp_channels.", "mlp.")
    return name.replace(".ls1", ".gamma_1").replace(".ls2", ".gamma_2")


def print_block(title, model, prefix):
    print(f"{title}:")
    for k, v in model.state_dict().items():
        if k.startswith(prefix):
            print(f"    {k} {list(v.shape)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    x28 = torch.randn(2, 3, 28, 28, generator=torch.Generator().manual_seed(0))
    x20 = torch.randn(2, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    np.save(os.path.join(OUT, "input28.npy"), x28.numpy())
    np.save(os.path.join(OUT, "input20.npy"), x20.numpy())
    layer_norm = lambda dim: nn.LayerNorm(dim, eps=1e-6)  # noqa: E731

    mixer = randomize(MlpMixer(22, 49, 2, MixerBlock, layer_norm), 10)
    save(mixer, x28, "mixer_timm")
    mixer25 = randomize(MlpMixer(22, 25, 2, MixerBlock, layer_norm), 11)
    save(mixer25, x20, "mixer25_timm")

    gmixer_block = lambda dim, tokens: MixerBlock(dim, tokens, (1.0, 4.0), GluMlp, nn.SiLU)  # noqa: E731
    gmixer = randomize(MlpMixer(26, 49, 2, gmixer_block, layer_norm), 12)
    save(gmixer, x28, "gmixer_timm")

    resmlp = randomize(MlpMixer(30, 49, 2, ResBlock, Affine), 13)
    timm_logits = save(resmlp, x28, "resmlp_timm")
    official = OfficialResMLP(30, 49, 2).eval()
    renamed = {official_resmlp_name(k): (v.reshape(-1) if k.endswith((".alpha", ".beta")) else v)
               for k, v in resmlp.state_dict().items()}
    official.load_state_dict(renamed, strict=True)
    official_logits = save(official, x28, "resmlp_official", official=True)
    difference = float((official_logits - timm_logits).abs().max())
    assert difference < 1e-5, difference
    print("resmlp: max |official - timm| =", difference)

    gmlp = randomize(MlpMixer(18, 49, 2, SpatialGatingBlock, layer_norm), 14)
    save(gmlp, x28, "gmlp_timm")

    print_block("mixer_timm (C 22, T 49, token hidden 11, channel hidden 88)", mixer, "blocks.0.")
    print_block("mixer25_timm (C 22, T 25, token hidden 11, channel hidden 88)", mixer25, "blocks.0.")
    print_block("gmixer_timm (C 26, T 49, token fc1 26 -> 13 after gating, channel fc1 104 -> 52)", gmixer, "blocks.0.")
    print_block("resmlp_timm (C 30, T 49, channel hidden 120)", resmlp, "blocks.0.")
    print_block("resmlp_official", official, "blocks.0.")
    print_block("gmlp_timm (C 18, T 49, fc1 108, gate 54)", gmlp, "blocks.0.")
    for name, model, x in (("mixer_timm", mixer, x28), ("mixer25_timm", mixer25, x20), ("gmixer_timm", gmixer, x28),
                           ("resmlp_timm", resmlp, x28), ("gmlp_timm", gmlp, x28)):
        logits = logits_of(model, x)
        print(f"{name}: logits std {float(logits.std()):.3f}, max |.| {float(logits.abs().max()):.3f}")
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
