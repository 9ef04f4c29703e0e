"""PyTorch references for `cpu_compare.py`, trained on one random batch:
- ResNet-20 (He et al. 2015, CIFAR, option-A shortcuts), the same network as
  `cnn_keras.resnet20()` (269,722 trainable parameters), with the same optimizer (SGD momentum
  0.9, coupled weight decay 1e-4);
- airbench94's network (Jordan 2024), as `cnn_keras.airbench94()` (1,971,352 trainable
  parameters: the whitening conv's weights frozen, batch norm without scales), with the
  speedrun's Nesterov SGD and the summed, label-smoothed loss.

    python benchmarks/torch_reference.py [--model resnet20|airbench94] --batch-size 128
        --steps 30 [--channels-last] [--bf16] [--compile]

`--bf16` runs forward and loss under `torch.autocast("cpu", torch.bfloat16)` (oneDNN's bf16
kernels: AMX where the CPU has it); `--compile` wraps the net in `torch.compile` (Inductor).

Prints one JSON line like `cnn-keras bench` (model, what, images_per_sec, backend, device,
precision, batch), and writes it to `--result FILE` when given.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.stride, self.pad = stride, c_out - c_in

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x
        if self.pad:  # option A: zero-padded channels
            shortcut = F.pad(shortcut, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(y + shortcut)


class ConvGroup(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.norm1, self.norm2 = nn.BatchNorm2d(c_out, eps=1e-12), nn.BatchNorm2d(c_out, eps=1e-12)
        for norm in (self.norm1, self.norm2):
            norm.weight.requires_grad = False  # no scales: only the biases learn

    def forward(self, x):
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))


class Airbench94(nn.Module):
    def __init__(self, widths=(64, 256, 256), classes=10):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2)
        self.whiten.weight.requires_grad = False  # frozen: set from the data's patches
        c, groups = 24, []
        for width in widths:
            groups.append(ConvGroup(c, width))
            c = width
        self.groups = nn.Sequential(*groups)
        self.head = nn.Linear(c, classes, bias=False)

    def forward(self, x):
        x = self.groups(F.gelu(self.whiten(x)))
        return self.head(x.amax((2, 3))) / 9


class ResNet20(nn.Module):
    def __init__(self, n=3, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, c = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(n):
                layers.append(Block(c, width, 2 if stage and i == 0 else 1))
                c = width
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(x.mean((2, 3)))


NETS = {"resnet20": (ResNet20, 269_722), "airbench94": (Airbench94, 1_971_352)}


def _optimizer(name, net):
    params = [p for p in net.parameters() if p.requires_grad]
    if name == "resnet20":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4), \
            F.cross_entropy
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.85, nesterov=True, weight_decay=5e-4)
    return opt, lambda logits, y: F.cross_entropy(logits, y, label_smoothing=0.2,
                                                  reduction="sum")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(NETS), default="resnet20")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    p.add_argument("--compile", action="store_true", help="torch.compile the net")
    p.add_argument("--result", help="also write the result as JSON to this file")
    args = p.parse_args()
    torch.manual_seed(0)
    make, expected = NETS[args.model]
    net = make()
    params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert params == expected, params
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt, loss_fn = _optimizer(args.model, net)
    x = torch.randn(args.batch_size, 3, 32, 32).to(memory_format=fmt)
    y = torch.randint(0, 10, (args.batch_size,))
    model = torch.compile(net) if args.compile else net

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", torch.bfloat16, enabled=args.bf16):
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    result = {
        "model": args.model, "what": "train", "backend": f"pytorch {torch.__version__} "
        + ("torch.compile" if args.compile else "eager")
        + (" channels_last" if args.channels_last else ""), "device": f"CPU ({cores} cores)",
        "precision": "bfloat16 autocast" if args.bf16 else "float32",
        "batch": args.batch_size, "steps": args.steps,
        "seconds": round(seconds, 6), "images_per_sec": round(args.batch_size * args.steps
                                                              / seconds, 1)}
    print(json.dumps(result))
    if args.result:
        with open(args.result, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
