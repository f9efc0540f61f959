# SPDX-License-Identifier: MIT
"""Turning what users pass (numpy arrays, CPU torch tensors, anything with
__array_interface__ or __dlpack__) into the float32 C-contiguous numpy
arrays libsgad reads, without copying when they already are."""
import numpy as np


def _from_torch(x):
    t = x.detach()  # a tensor that requires grad cannot give .numpy()
    if t.device.type != "cpu":
        t = t.cpu()  # a copy: libsgad computes on the CPU
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()  # numpy has no bfloat16
    if t.is_conj():
        t = t.resolve_conj()
    return t.numpy()  # shares the tensor's memory


def as_float32(x, scale=None, name="x"):
    """x as a float32 C-contiguous numpy array, sharing x's memory when x is
    already float32, C-contiguous and on the CPU (numpy, torch, DLPack).

    Integer (and boolean) arrays are refused unless scale is given: an 8-bit
    image batch is [0, 255] while libsgad's images are [0, 1], so the caller
    must say how to scale (scale=1/255). With scale the result is a new
    array x * scale."""
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        x = _from_torch(x)
    elif not isinstance(x, np.ndarray):
        if hasattr(x, "__array_interface__") or hasattr(x, "__array__"):
            x = np.asarray(x)
        elif hasattr(x, "__dlpack__"):
            x = np.from_dlpack(x)
        else:
            x = np.asarray(x)
    if x.dtype.kind in "iub":
        if scale is None:
            raise TypeError(
                f"{name} has integer dtype {x.dtype}; libsgad takes float32. Pass scale= to "
                f"convert it (e.g. scale=1/255 for 8-bit images in [0, 255] -> [0, 1]), or "
                f"convert it yourself")
        return np.ascontiguousarray(x, dtype=np.float32) * np.float32(scale)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} has dtype {x.dtype}; libsgad takes float32")
    if scale is not None:
        return np.ascontiguousarray(x * scale, dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)
