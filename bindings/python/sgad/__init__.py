# SPDX-License-Identifier: MIT
"""Python bindings for libsgad over ctypes (no compiler needed).

numpy float32 C-contiguous arrays are passed to the library without
copies (sgad_tensor_wrap). Library errors raise SgadError carrying the
library's message; handles are freed when their Python objects go.

    import numpy as np, sgad
    ctx = sgad.Context(threads=2)
    t = sgad.Trainer.preset(ctx, "sgad", "28x28x1", steps=16)
    t.step(real)                      # real: float32 [N, 1, 28, 28] in [0, 1]
    images = t.sample(64, seed=1)     # float32 [64, 1, 28, 28]
    t.save("ckpt.safetensors")
    u = sgad.Trainer.load(ctx, "ckpt.safetensors")

The library is found through $SGAD_LIBRARY, then the source tree this
package sits in (lib/libsgad.so.1), then pkg-config's libdir for sgad,
then the system loader (libsgad.so.1); sgad.library_path and
sgad.library_source say which.
"""
import ctypes
import ctypes.util
import os
import subprocess
from typing import Dict, Optional, Union

import numpy as np

from ._arrays import as_float32

__version__ = "1.0.0"  # = include/sgad/version.h (tests/test_install.py checks)

__all__ = ["SgadError", "Context", "Trainer", "MODELS", "SHAPES", "library_path",
           "library_source", "library_version", "__version__"]

SHAPES = {"28x28x1": 0, "32x32x3": 1, "64x64x3": 2}
LOSSES = {"em": 0, "minimax": 1}
OPTIMIZERS = {"rmsprop": 0, "adam": 1}
STATS = ("d_real", "d_fake", "wasserstein", "loss_d", "loss_g", "grad_norm_d",
         "grad_norm_g", "g_updated", "lr_d", "lr_g")
OPTIONS = {"n_critic": 500, "clip": 501, "ema_decay": 502, "schedule": 503,
           "schedule_length": 504, "schedule_period": 505}
SAMPLE_EMA = 1
SAMPLE_BATCH_STATS = 2


def _pkg_config_libdir():
    """pkg-config's libdir for sgad, or None (no pkg-config, no sgad.pc)."""
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "sgad"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _candidates():
    """(source, path) in the order they are tried."""
    env = os.environ.get("SGAD_LIBRARY")
    if env:
        yield "SGAD_LIBRARY", env
    # A source tree: this package in <tree>/bindings/python/sgad, the
    # library built into <tree>/lib (make check-python, make check-docs).
    tree = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", ".."))
    if os.path.exists(os.path.join(tree, "include", "sgad", "version.h")):
        yield "source tree", os.path.join(tree, "lib", "libsgad.so.1")
    libdir = _pkg_config_libdir()
    if libdir:
        yield "pkg-config", os.path.join(libdir, "libsgad.so.1")
    found = ctypes.util.find_library("sgad")
    for name in ([found] if found else []) + ["libsgad.so.1"]:
        yield "system loader", name


def _load():
    """Loads libsgad: $SGAD_LIBRARY, this source tree's lib/, pkg-config's
    libdir, then the system loader. Returns (CDLL, path, source)."""
    tried = []
    for source, path in _candidates():
        if os.path.isabs(path) and not os.path.exists(path):
            tried.append(f"{source}: {path} does not exist")
            if source == "SGAD_LIBRARY":
                break  # an explicit choice that fails is an error, not a hint
            continue
        try:
            return ctypes.CDLL(path), path, source
        except OSError as e:
            tried.append(f"{source}: {e}")
            if source == "SGAD_LIBRARY":
                break
    raise ImportError(
        "libsgad not found (tried: " + "; ".join(tried or ["nothing"]) + "). Either set "
        "SGAD_LIBRARY=/path/to/libsgad.so.1, or install libsgad where pkg-config finds it "
        "(sgad.pc; check with `pkg-config --variable=libdir sgad`, PKG_CONFIG_PATH), or "
        "where the system loader finds it (`make install` then `ldconfig`, or "
        "LD_LIBRARY_PATH).")


_lib, library_path, library_source = _load()
"""library_path: the libsgad loaded; library_source: how it was found
(\"SGAD_LIBRARY\", \"source tree\", \"pkg-config\" or \"system loader\")."""
_p = ctypes.c_void_p
_i64 = ctypes.c_int64


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_sig("sgad_status_name", ctypes.c_char_p, ctypes.c_int)
_sig("sgad_version_string", ctypes.c_char_p)
_sig("sgad_ctx_create", ctypes.c_int, ctypes.POINTER(_p))
_sig("sgad_ctx_free", None, _p)
_sig("sgad_ctx_set_threads", ctypes.c_int, _p, ctypes.c_int)
_sig("sgad_ctx_set_seed", ctypes.c_int, _p, ctypes.c_uint64)
_sig("sgad_ctx_last_error", ctypes.c_char_p, _p)
_sig("sgad_tensor_wrap", ctypes.c_int, _p, ctypes.c_int, ctypes.POINTER(_i64), _p,
     ctypes.POINTER(_p))
_sig("sgad_tensor_free", None, _p)
_sig("sgad_trainer_create_preset", ctypes.c_int, _p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
     ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_p))
_sig("sgad_trainer_free", None, _p)
_sig("sgad_trainer_net", _p, _p, ctypes.c_int)
_sig("sgad_trainer_preset", ctypes.c_int, _p, ctypes.POINTER(ctypes.c_int),
     ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
_sig("sgad_trainer_set_seed", ctypes.c_int, _p, ctypes.c_uint64)
_sig("sgad_trainer_set", ctypes.c_int, _p, ctypes.c_int, ctypes.c_double)
_sig("sgad_trainer_step", ctypes.c_int, _p, _p, _p)
_sig("sgad_trainer_iterations", _i64, _p)
_sig("sgad_trainer_stat", ctypes.c_int, _p, ctypes.c_int, ctypes.POINTER(ctypes.c_double))
_sig("sgad_trainer_sample_ex", ctypes.c_int, _p, _p, _p, ctypes.c_uint, _p, _p)
_sig("sgad_net_output_dims", ctypes.c_int, _p, ctypes.c_int, ctypes.POINTER(_i64),
     ctypes.POINTER(ctypes.c_int), ctypes.POINTER(_i64))
_sig("sgad_draw_latents", ctypes.c_int, _p, ctypes.c_uint64, _p)
_sig("sgad_checkpoint_save", ctypes.c_int, _p, ctypes.c_char_p)
_sig("sgad_checkpoint_read", ctypes.c_int, _p, ctypes.c_char_p, ctypes.POINTER(_p))
_sig("sgad_checkpoint_free", None, _p)
_sig("sgad_checkpoint_create_trainer", ctypes.c_int, _p, _p, ctypes.POINTER(_p))
_sig("sgad_model_name", ctypes.c_char_p, ctypes.c_int)
_sig("sgad_model_from_name", ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))


def _models():
    """{name: sgad_model} as the library names them: values from 0 up to
    the first whose name does not parse back to it (the library's table is
    the only list of models)."""
    models = {}
    while True:
        value, back = len(models), ctypes.c_int(-1)
        name = _lib.sgad_model_name(value)
        if (not name or _lib.sgad_model_from_name(name, ctypes.byref(back)) != 0
                or back.value != value):
            return models
        models[name.decode()] = value


MODELS = _models()


def library_version():
    """The loaded library's version (sgad_version_string), e.g. "1.0.0"."""
    return _lib.sgad_version_string().decode()


class SgadError(RuntimeError):
    """A libsgad call failed: .status is the status name, the text the
    library's message."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


class Context:
    """An sgad_ctx: threads, seed, and the last error message. Objects made
    in a context (trainers) keep it alive; at interpreter exit, when Python
    may finalise in any order, the context's memory goes last."""

    def __init__(self, threads: Optional[int] = None, seed: Optional[int] = None):
        h = _p()
        if _lib.sgad_ctx_create(ctypes.byref(h)) != 0:
            raise MemoryError("sgad_ctx_create failed")
        self._h = h
        self._children = 0
        self._closing = False
        if threads is not None:
            self.check(_lib.sgad_ctx_set_threads(h, int(threads)))
        if seed is not None:
            self.check(_lib.sgad_ctx_set_seed(h, int(seed)))

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        """Frees the context now, or when the last object made in it goes
        (what `with sgad.Context() as ctx:` does at the block's end)."""
        if getattr(self, "_h", None):
            self._closing = True
            self._release()

    @property
    def closed(self) -> bool:
        return not self._h

    def check(self, status: int) -> None:
        """Raises SgadError with the library's message for a failed status."""
        if status != 0:
            if not self._h:
                raise ValueError("the sgad.Context is closed")
            name = _lib.sgad_status_name(status).decode()
            raise SgadError(name, (_lib.sgad_ctx_last_error(self._h) or b"").decode())

    def wrap(self, array):
        """A borrowed sgad_tensor over a float32 C-contiguous array (no
        copy); the caller keeps the array alive and frees the tensor."""
        if array.dtype != np.float32 or not array.flags["C_CONTIGUOUS"]:
            raise TypeError("arrays passed to libsgad must be float32 and C-contiguous")
        dims = (_i64 * array.ndim)(*array.shape)
        t = _p()
        self.check(_lib.sgad_tensor_wrap(self._h, array.ndim, dims,
                                         array.ctypes.data_as(_p), ctypes.byref(t)))
        return t

    def _release(self, _free=_lib.sgad_ctx_free):
        if self._h and self._children == 0:
            _free(self._h)
            self._h = None

    def __del__(self):
        self.close()


class Trainer:
    """A preset trainer (sgad_trainer_create_preset) or one rebuilt from a
    checkpoint. Keeps its Context alive."""

    def __init__(self, ctx, handle):
        self.ctx, self._h = ctx, handle
        ctx._children += 1
        model, shape, steps, latent = (ctypes.c_int() for _ in range(4))
        ctx.check(_lib.sgad_trainer_preset(handle, ctypes.byref(model), ctypes.byref(shape),
                                           ctypes.byref(steps), ctypes.byref(latent)))
        self.latent, self.steps = latent.value, steps.value

    @classmethod
    def preset(cls, ctx: Context, model: str = "sgad", shape: str = "28x28x1", steps: int = 16,
               latent: int = 0, loss: Optional[str] = None,
               optimizer: str = "rmsprop") -> "Trainer":
        if loss is None:
            loss = "minimax" if model in ("sgan", "hybrid") else "em"
        h = _p()
        ctx.check(_lib.sgad_trainer_create_preset(ctx._h, MODELS[model], SHAPES[shape], steps,
                                                  latent, LOSSES[loss],
                                                  OPTIMIZERS[optimizer], ctypes.byref(h)))
        return cls(ctx, h)

    @classmethod
    def load(cls, ctx: Context, path: Union[str, os.PathLike]) -> "Trainer":
        """The trainer a checkpoint file describes, with its whole state."""
        c, h = _p(), _p()
        ctx.check(_lib.sgad_checkpoint_read(ctx._h, os.fsencode(path), ctypes.byref(c)))
        try:
            ctx.check(_lib.sgad_checkpoint_create_trainer(c, ctx._h, ctypes.byref(h)))
        finally:
            _lib.sgad_checkpoint_free(c)
        return cls(ctx, h)

    def save(self, path: Union[str, os.PathLike]) -> None:
        self.ctx.check(_lib.sgad_checkpoint_save(self._h, os.fsencode(path)))

    def seed(self, seed: int) -> None:
        self.ctx.check(_lib.sgad_trainer_set_seed(self._h, int(seed)))

    def set(self, option: str, value: float) -> None:
        self.ctx.check(_lib.sgad_trainer_set(self._h, OPTIONS[option], float(value)))

    @property
    def iterations(self) -> int:
        return _lib.sgad_trainer_iterations(self._h)

    def stats(self) -> Dict[str, float]:
        """The figures of the last iteration as a dict."""
        out = {}
        for k, name in enumerate(STATS):
            v = ctypes.c_double()
            self.ctx.check(_lib.sgad_trainer_stat(self._h, k, ctypes.byref(v)))
            out[name] = v.value
        return out

    def step(self, real, scale: Optional[float] = None) -> None:
        """One iteration (D then G) on real images [N, C, H, W] in [0, 1]:
        a float32 numpy array or CPU torch tensor (used without a copy), or
        any float array (converted). Integer images need scale, e.g.
        scale=1/255 for uint8, else TypeError."""
        real = as_float32(real, scale, "real")
        t = self.ctx.wrap(real)
        try:
            self.ctx.check(_lib.sgad_trainer_step(self._h, t, None))
        finally:
            _lib.sgad_tensor_free(t)

    def _output_shape(self, n):
        dims = (_i64 * 3)(1, n, self.latent)
        nd, out = ctypes.c_int(), (_i64 * 6)()
        g = _lib.sgad_trainer_net(self._h, 0)
        self.ctx.check(_lib.sgad_net_output_dims(g, 3, dims, ctypes.byref(nd), out))
        return tuple(out[i] for i in range(nd.value))

    def sample(self, n: int, seed: int = 0, ema: bool = False, with_steps: bool = False,
               batch: int = 64, bn: str = "running"):
        """n images from latents drawn with seed, in evaluation mode:
        [n, C, H, W] (SGAN: [T, n, C, H, W] spikes). With with_steps (SGAD),
        also the decoder's inputs [T, n, C, H, W] and scores [T, n].

        G runs on `batch` latents at a time, so memory beyond the results
        does not grow with n. bn="running" normalises with batch norm's
        running statistics (images independent of batch); bn="batch" with
        each batch's own, as the SGAD authors' code samples: images then
        depend on (seed, batch), and no batch may hold 1 sample."""
        if bn not in ("running", "batch"):
            raise ValueError(f"bn must be 'running' or 'batch', not {bn!r}")
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        if bn == "batch" and (batch == 1 or n % batch == 1):
            raise ValueError(f"batch {batch} for {n} samples leaves a batch of 1 sample, "
                             "which has no batch statistics")
        flags = (SAMPLE_EMA if ema else 0) | (SAMPLE_BATCH_STATS if bn == "batch" else 0)
        z = np.empty((1, n, self.latent), dtype=np.float32)
        zt = self.ctx.wrap(z)
        try:
            self.ctx.check(_lib.sgad_draw_latents(self.ctx._h, int(seed), zt))
        finally:
            _lib.sgad_tensor_free(zt)
        shape = self._output_shape(n)
        images = np.empty(shape, dtype=np.float32)
        steps = scores = None
        if with_steps:
            steps = np.empty((self.steps,) + shape[1:], dtype=np.float32)
            scores = np.empty((self.steps, n), dtype=np.float32)
        for first in range(0, n, batch):
            b = min(batch, n - first)
            self._sample_batch(z[:, first:first + b], flags, images, steps, scores, first)
        images = images[0] if images.shape[0] == 1 else images
        return (images, steps, scores) if with_steps else images

    def _sample_batch(self, z, flags, images, steps, scores, first):
        """Samples the latents z [1, b, latent] into images[:, first:first+b]
        (and steps, scores) through buffers of this batch's size."""
        b = z.shape[1]
        out = np.empty(self._output_shape(b), dtype=np.float32)
        st = np.empty((self.steps,) + out.shape[1:], dtype=np.float32) if steps is not None else None
        sc = np.empty((self.steps, b), dtype=np.float32) if scores is not None else None
        z = np.ascontiguousarray(z)  # held here while the library reads it
        tensors = [self.ctx.wrap(z), self.ctx.wrap(out)]
        if st is not None:
            tensors += [self.ctx.wrap(st), self.ctx.wrap(sc)]
        try:
            self.ctx.check(_lib.sgad_trainer_sample_ex(
                self._h, tensors[0], tensors[1], flags, tensors[2] if st is not None else None,
                tensors[3] if st is not None else None))
        finally:
            for t in tensors:
                _lib.sgad_tensor_free(t)
        images[:, first:first + b] = out
        if st is not None:
            steps[:, first:first + b] = st
            scores[:, first:first + b] = sc

    def __del__(self, _free=_lib.sgad_trainer_free):
        if getattr(self, "_h", None):
            _free(self._h)
            self._h = None
            self.ctx._children -= 1
            if self.ctx._closing:
                self.ctx._release()


# Nets, layers and optimizers (sgad/nn.py), on the library loaded above.
from . import constants  # noqa: E402
from . import nn as _nn  # noqa: E402

_nn._bind(_lib)
from .nn import *  # noqa: E402,F401,F403

__all__ += _nn.__all__ + ["constants", "as_float32"]
