# SPDX-License-Identifier: MIT
"""libsgad nets inside PyTorch graphs (import sgad.torch; needs torch).

    import sgad, sgad.torch
    net = sgad.Net(ctx, [sgad.Linear(ctx, 8, 4), sgad.LIF(ctx)])
    module = sgad.torch.Module(net)          # an nn.Module
    y = module(x)                            # x: torch [T, N, 8]; forward in libsgad
    y.sum().backward()                       # backward in libsgad: x.grad, parameter grads
    torch.optim.Adam(module.parameters())    # parameters share the net's memory

The module's parameters are torch tensors over the library's own weight
memory, so a torch optimizer updates the net in place (and the net's own
optimizers see torch's changes). Buffers (batch-norm running statistics)
are registered as module buffers, also shared.

libsgad keeps one forward's state per net, so a backward must follow the
forward it differentiates: running the net again in between (another
forward through the same module before backward) raises RuntimeError
rather than returning wrong gradients. Everything runs on the CPU in
float32; inputs on other devices are copied to the CPU and gradients
returned there.
"""
import numpy as np
import torch

from . import nn as _nn

__all__ = ["Module", "NetFunction"]


class NetFunction(torch.autograd.Function):
    """y = net(x) with libsgad's forward and backward. apply(x, module,
    *params): params are the module's parameters in net order, passed so
    that autograd routes their gradients."""

    @staticmethod
    def forward(ctx, x, module, *params):  # pylint: disable=arguments-differ
        net = module.net
        y = net.forward(x.detach().to("cpu", torch.float32).contiguous())
        module._forwards += 1
        ctx.module, ctx.token, ctx.device = module, module._forwards, x.device
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx, dy):  # pylint: disable=arguments-differ
        module = ctx.module
        if module._forwards != ctx.token:
            raise RuntimeError("sgad.torch: the net ran another forward before this backward; "
                               "libsgad differentiates only its last forward")
        net = module.net
        net.zero_grad()
        dx = net.backward(dy.detach().to("cpu", torch.float32).contiguous())
        grads = [torch.from_numpy(np.array(grad)) for _, _, grad in net.parameters()
                 if grad is not None]
        return (torch.from_numpy(dx).to(ctx.device), None, *grads)


class Module(torch.nn.Module):
    """An sgad.Net as a torch.nn.Module whose forward and backward run in
    libsgad. train()/eval() switch the net's mode too."""

    def __init__(self, net: "_nn.Net"):
        super().__init__()
        self.net = net
        self._forwards = 0
        self._names = []
        for name, value, grad in net.parameters():
            key = name.replace(".", "_")
            tensor = torch.from_numpy(value)  # shares the library's memory
            if grad is None:
                self.register_buffer(key, tensor)
            else:
                self.register_parameter(key, torch.nn.Parameter(tensor))
                self._names.append(key)

    def forward(self, x):  # pylint: disable=arguments-differ
        params = [getattr(self, key) for key in self._names]
        return NetFunction.apply(torch.as_tensor(x), self, *params)

    def train(self, mode: bool = True):
        super().train(mode)
        self.net.train(mode)
        return self
