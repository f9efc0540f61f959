# SPDX-License-Identifier: MIT
"""What the bindings accept as arrays: float32 C-contiguous numpy arrays and
CPU torch tensors (also ones that require grad) without copies, anything
with __array_interface__ or __dlpack__, and integer images only with
scale= (an uint8 batch used to be converted without scaling)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sgad  # noqa: E402


def test_float32_numpy_is_not_copied():
    x = np.random.default_rng(0).random((2, 3, 4), dtype=np.float32)
    assert sgad.as_float32(x) is x
    view = x[:, 1]  # not C-contiguous: one copy, the values kept
    y = sgad.as_float32(view)
    assert y.flags["C_CONTIGUOUS"] and not np.shares_memory(y, x)
    np.testing.assert_array_equal(y, view)
    np.testing.assert_array_equal(sgad.as_float32(x.astype(np.float64)), x)


class OnlyArrayInterface:
    def __init__(self, a):
        self.a = a
        self.__array_interface__ = a.__array_interface__


class OnlyDLPack:
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, stream=None):
        return self.a.__dlpack__()

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_array_interface_and_dlpack_are_not_copied():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    for wrapped in (OnlyArrayInterface(x), OnlyDLPack(x)):
        y = sgad.as_float32(wrapped)
        assert y.shape == (3, 4) and np.shares_memory(y, x)


def test_integer_images_need_a_scale():
    ctx = sgad.Context(threads=1, seed=1)
    t = sgad.Trainer.preset(ctx, "sgad", "28x28x1", steps=2)
    images = np.full((2, 1, 28, 28), 255, dtype=np.uint8)
    with pytest.raises(TypeError, match=r"scale=1/255"):
        t.step(images)
    assert t.iterations == 0
    t.step(images, scale=1 / 255)
    assert t.iterations == 1
    y = sgad.as_float32(images, scale=1 / 255)
    assert y.dtype == np.float32 and np.allclose(y, 1.0)
    net = sgad.Net(ctx, [sgad.Linear(ctx, 3, 2)])
    with pytest.raises(TypeError, match="scale="):
        net.forward(np.ones((1, 2, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="scale="):
        net.forward(np.ones((1, 2, 3), dtype=bool))
    assert net.forward(np.ones((1, 2, 3), dtype=np.int32), scale=0.5).shape == (1, 2, 2)
    with pytest.raises(TypeError):
        sgad.as_float32(np.array(["a"]))


def test_torch_tensors_are_shared_and_detached():
    torch = pytest.importorskip("torch")
    x = torch.rand(2, 1, 28, 28, requires_grad=True)
    y = sgad.as_float32(x)
    assert y.dtype == np.float32 and y.ctypes.data == x.data_ptr()
    ctx = sgad.Context(threads=1, seed=1)
    t = sgad.Trainer.preset(ctx, "sgad", "28x28x1", steps=2)
    t.step(x)  # requires_grad: detached, not refused
    assert t.iterations == 1
    with pytest.raises(TypeError, match="scale="):
        t.step(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    net = sgad.Net(ctx, [sgad.Linear(ctx, 3, 2), sgad.MP(ctx)])
    a = torch.ones(1, 2, 3)
    np.testing.assert_array_equal(net.forward(a), net.forward(a.numpy()))
    half = sgad.as_float32(torch.ones(2, 2, dtype=torch.bfloat16))
    assert half.dtype == np.float32 and half.sum() == 4
