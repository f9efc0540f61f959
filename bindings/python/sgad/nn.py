# SPDX-License-Identifier: MIT
"""Nets, layers and optimizers (include/sgad/{net,layer,neuron,optim,
decoder}.h) over ctypes, with the C API's names: sgad.Net, sgad.Linear,
sgad.Conv2d, sgad.ConvTranspose2d, sgad.BatchNorm1d/2d, sgad.LIF, sgad.IF,
sgad.MP, sgad.AvgPool2d, sgad.Sigmoid, sgad.LeakyReLU, sgad.Reshape,
sgad.Repeat, sgad.LastStep, sgad.TimeMean, sgad.AttentionDecoder,
sgad.RMSprop, sgad.Adam.

Tensors are [T, N, ...]: T time steps, N samples. A layer belongs to its
Python object until a Net adopts it (sgad_net_adopt); from then on the net
frees it and the layer object only keeps the net alive.

    net = sgad.Net(ctx, [sgad.Repeat(ctx, 4), sgad.Linear(ctx, 8, 2), sgad.MP(ctx),
                         sgad.TimeMean(ctx)])
    opt = sgad.RMSprop(net, lr=1e-2)
    y = net.forward(x)          # x: [1, N, 8] -> y: [1, N, 2]
    net.zero_grad(); net.backward(dy); opt.step()
"""
import ctypes

import numpy as np

from . import constants as C
from ._arrays import as_float32

__all__ = ["Layer", "Net", "Optimizer", "RMSprop", "Adam", "Linear", "Conv2d",
           "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "AvgPool2d", "Sigmoid", "LeakyReLU",
           "Reshape", "Repeat", "LastStep", "TimeMean", "LIF", "IF", "MP", "AttentionDecoder"]

_p = ctypes.c_void_p
_i64 = ctypes.c_int64
_int = ctypes.c_int
_dbl = ctypes.c_double
_P = ctypes.POINTER
MAX_DIMS = 8


def _setup(lib):
    def sig(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = list(argtypes)

    out = _P(_p)
    sig("sgad_layer_free", None, _p)
    sig("sgad_layer_set", _int, _p, _int, _dbl)
    sig("sgad_layer_get", _int, _p, _int, _P(_dbl))
    sig("sgad_layer_get_kind", _int, _p)
    sig("sgad_layer_kind_name", ctypes.c_char_p, _int)
    sig("sgad_layer_param_count", _int, _p)
    sig("sgad_layer_firing_rate", _int, _p, _P(_dbl))
    sig("sgad_linear_create", _int, _p, _i64, _i64, _int, out)
    for name in ("sgad_conv2d_create", "sgad_convt2d_create"):
        sig(name, _int, _p, _i64, _i64, _int, _int, _int, _int, out)
    sig("sgad_batchnorm1d_create", _int, _p, _i64, out)
    sig("sgad_batchnorm2d_create", _int, _p, _i64, out)
    sig("sgad_avgpool2d_create", _int, _p, _int, _int, _int, out)
    sig("sgad_leaky_relu_create", _int, _p, _dbl, out)
    sig("sgad_reshape_create", _int, _p, _int, _P(_i64), out)
    sig("sgad_repeat_create", _int, _p, _int, out)
    sig("sgad_last_step_create", _int, _p, _dbl, out)
    for name in ("sgad_sigmoid_create", "sgad_time_mean_create", "sgad_lif_create",
                 "sgad_if_create", "sgad_mp_create"):
        sig(name, _int, _p, out)
    sig("sgad_attention_decoder_create", _int, _p, _i64, _i64, _i64, _int, out)
    sig("sgad_net_create", _int, _p, out)
    sig("sgad_net_free", None, _p)
    sig("sgad_net_adopt", _int, _p, _p)
    sig("sgad_net_layer_count", _int, _p)
    sig("sgad_net_forward", _int, _p, _p, _p)
    sig("sgad_net_backward", _int, _p, _p, _p)
    sig("sgad_net_zero_grad", None, _p)
    sig("sgad_net_set_training", _int, _p, _int)
    sig("sgad_net_param_count", _int, _p)
    sig("sgad_net_param", _int, _p, _int, _P(ctypes.c_char_p), out, out)
    sig("sgad_net_firing_rate", _int, _p, _int, _P(_dbl))
    sig("sgad_net_activation_dims", _int, _p, _int, _P(_int), _P(_i64))
    sig("sgad_net_activation", _int, _p, _int, _p)
    sig("sgad_tensor_data", _p, _p)
    sig("sgad_tensor_ndim", _int, _p)
    sig("sgad_tensor_dim", _i64, _p, _int)
    sig("sgad_optimizer_create", _int, _p, _int, _p, out)
    sig("sgad_optimizer_free", None, _p)
    sig("sgad_optimizer_set", _int, _p, _int, _dbl)
    sig("sgad_optimizer_get", _int, _p, _int, _P(_dbl))
    sig("sgad_optimizer_step", _int, _p)
    sig("sgad_optimizer_steps", _i64, _p)


_lib = None  # set by sgad/__init__.py through _bind()


def _bind(lib):
    global _lib
    _lib = lib
    _setup(lib)


def _view(tensor, owner):
    """A numpy view of an sgad_tensor's memory that keeps owner alive."""
    if not tensor:
        return None
    shape = tuple(_lib.sgad_tensor_dim(tensor, i) for i in range(_lib.sgad_tensor_ndim(tensor)))
    n = int(np.prod(shape, dtype=np.int64))
    buf = (ctypes.c_float * n).from_address(_lib.sgad_tensor_data(tensor))
    buf._owner = owner  # the array's base is buf, buf keeps the owner
    return np.frombuffer(buf, dtype=np.float32).reshape(shape)


class _Owned:
    """Something made in a Context: counts itself among the context's
    children so that the context is freed last."""

    def _attach(self, ctx):
        self.ctx = ctx
        ctx._children += 1

    def _detach(self):
        self.ctx._children -= 1
        if self.ctx._closing:
            self.ctx._release()


class Layer(_Owned):
    """An sgad_layer. Options (sgad_layer_set) by name or sgad.constants
    value: layer.set("tau", 2.0), layer.get("threshold")."""

    def __init__(self, ctx, create, *args):
        h = _p()
        ctx.check(create(ctx._h, *args, ctypes.byref(h)))
        self._h = h
        self.net = None  # the Net that adopted this layer, which now frees it
        self._attach(ctx)

    @property
    def kind(self) -> int:
        """The sgad_layer_kind (sgad.constants.LAYER_*)."""
        return _lib.sgad_layer_get_kind(self._h)

    @property
    def kind_name(self) -> str:
        return _lib.sgad_layer_kind_name(self.kind).decode()

    def set(self, option, value):
        """Sets an option (name in sgad.constants.OPTION_NAMES or an
        sgad.constants.OPT_* value); surrogate, reset_mode and input_path
        also take their names ("sigmoid", "soft", "dense")."""
        option, value = _option(option, value, C.OPTION_NAMES)
        self.ctx.check(_lib.sgad_layer_set(self._h, option, float(value)))
        return self

    def get(self, option) -> float:
        option, _ = _option(option, 0, C.OPTION_NAMES)
        v = _dbl()
        self.ctx.check(_lib.sgad_layer_get(self._h, option, ctypes.byref(v)))
        return v.value

    def firing_rate(self) -> float:
        """Share of spikes in the last forward (spiking layers)."""
        v = _dbl()
        self.ctx.check(_lib.sgad_layer_firing_rate(self._h, ctypes.byref(v)))
        return v.value

    def _configure(self, options):
        for name, value in options.items():
            if value is not None:
                self.set(name, value)

    def __repr__(self):
        return f"sgad.{type(self).__name__}<{self.kind_name}>"

    def __del__(self):
        if getattr(self, "_h", None):
            if self.net is None:
                _lib.sgad_layer_free(self._h)
            self._h = None
            self._detach()


def _option(option, value, names):
    if isinstance(option, str):
        if option not in names:
            raise KeyError(f"unknown option {option!r}; known: {', '.join(sorted(names))}")
        tables = {"surrogate": C.SURROGATES, "reset_mode": C.RESET_MODES,
                  "input_path": C.INPUT_PATHS, "input_path_taken": C.INPUT_PATHS}
        if isinstance(value, str) and option in tables:
            value = tables[option][value]
        option = names[option]
    return int(option), value


class Linear(Layer):
    """y = x W^T + b over the last dimension: [T, N, in] -> [T, N, out]."""

    def __init__(self, ctx, in_features: int, out_features: int, bias: bool = True, **options):
        super().__init__(ctx, _lib.sgad_linear_create, in_features, out_features, int(bias))
        self._configure(options)


class Conv2d(Layer):
    """[T, N, C, H, W] convolution, square kernel."""

    def __init__(self, ctx, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, **options):
        super().__init__(ctx, _lib.sgad_conv2d_create, in_channels, out_channels, kernel, stride,
                         padding, int(bias))
        self._configure(options)


class ConvTranspose2d(Layer):
    """Transposed convolution (sgad_convt2d_create), as PyTorch's."""

    def __init__(self, ctx, in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, **options):
        super().__init__(ctx, _lib.sgad_convt2d_create, in_channels, out_channels, kernel,
                         stride, padding, int(bias))
        self._configure(options)


class BatchNorm1d(Layer):
    def __init__(self, ctx, features: int, momentum=None, eps=None):
        super().__init__(ctx, _lib.sgad_batchnorm1d_create, features)
        self._configure({"momentum": momentum, "bn_eps": eps})


class BatchNorm2d(Layer):
    def __init__(self, ctx, channels: int, momentum=None, eps=None):
        super().__init__(ctx, _lib.sgad_batchnorm2d_create, channels)
        self._configure({"momentum": momentum, "bn_eps": eps})


class AvgPool2d(Layer):
    def __init__(self, ctx, kernel: int, stride: int = None, padding: int = 0):
        super().__init__(ctx, _lib.sgad_avgpool2d_create, kernel,
                         kernel if stride is None else stride, padding)


class Sigmoid(Layer):
    def __init__(self, ctx):
        super().__init__(ctx, _lib.sgad_sigmoid_create)


class LeakyReLU(Layer):
    def __init__(self, ctx, slope: float = 0.01):
        super().__init__(ctx, _lib.sgad_leaky_relu_create, float(slope))


class Reshape(Layer):
    """Reshapes each sample: [T, N, ...] -> [T, N, *sample_shape]."""

    def __init__(self, ctx, *sample_shape):
        if len(sample_shape) == 1 and isinstance(sample_shape[0], (tuple, list)):
            sample_shape = tuple(sample_shape[0])
        dims = (_i64 * len(sample_shape))(*sample_shape)
        super().__init__(ctx, _lib.sgad_reshape_create, len(sample_shape), dims)


class Repeat(Layer):
    """[1, N, ...] -> [steps, N, ...]: direct encoding as a layer."""

    def __init__(self, ctx, steps: int):
        super().__init__(ctx, _lib.sgad_repeat_create, steps)


class LastStep(Layer):
    """[T, N, ...] -> [1, N, ...]: the last step times scale."""

    def __init__(self, ctx, scale: float = 1.0):
        super().__init__(ctx, _lib.sgad_last_step_create, float(scale))


class TimeMean(Layer):
    """[T, N, ...] -> [1, N, ...]: the mean over the steps."""

    def __init__(self, ctx):
        super().__init__(ctx, _lib.sgad_time_mean_create)


class _Neuron(Layer):
    _create = None

    def __init__(self, ctx, tau=None, threshold=None, v_reset=None, reset_mode=None,
                 detach_reset=None, decay_input=None, surrogate=None, alpha=None):
        super().__init__(ctx, getattr(_lib, self._create))
        self._configure({"tau": tau, "threshold": threshold, "v_reset": v_reset,
                         "reset_mode": reset_mode, "detach_reset": detach_reset,
                         "decay_input": decay_input, "surrogate": surrogate, "alpha": alpha})


class LIF(_Neuron):
    """Leaky integrate-and-fire neurons (SGAD's defaults: tau 2, threshold 1,
    hard reset to 0, atan surrogate with alpha 2)."""
    _create = "sgad_lif_create"


class IF(_Neuron):
    """Integrate-and-fire neurons (no leak)."""
    _create = "sgad_if_create"


class MP(_Neuron):
    """Membrane-potential readout: leaky integration, no spikes."""
    _create = "sgad_mp_create"


class AttentionDecoder(Layer):
    """SGAD's attention-scored decoder (decoder.h)."""

    def __init__(self, ctx, features: int, hidden: int, down: int, separate_keys: bool = False):
        super().__init__(ctx, _lib.sgad_attention_decoder_create, features, hidden, down,
                         int(separate_keys))


class Net(_Owned):
    """An sgad_net: layers run in order over [T, N, ...] tensors.

    forward(x) returns a new numpy array; backward(dy) adds into the
    parameter gradients and returns dx. parameters() lists (name, value,
    grad) with numpy views of the library's memory (grad None for buffers
    such as batch-norm running statistics)."""

    def __init__(self, ctx, layers=()):
        h = _p()
        ctx.check(_lib.sgad_net_create(ctx._h, ctypes.byref(h)))
        self._h = h
        self._layers = []
        self._in_shape = None
        self._attach(ctx)
        for layer in layers:
            self.append(layer)

    def append(self, layer: Layer) -> "Net":
        """Adopts layer (the net frees it from now on)."""
        if layer.net is not None:
            raise ValueError(f"{layer!r} already belongs to a net")
        if layer.ctx is not self.ctx:
            raise ValueError("a net's layers must come from its context")
        self.ctx.check(_lib.sgad_net_adopt(self._h, layer._h))
        layer.net = self
        self._layers.append(layer)
        return self

    def __len__(self):
        return len(self._layers)

    def __getitem__(self, i):
        return self._layers[i]

    def __iter__(self):
        return iter(self._layers)

    def output_shape(self, in_shape):
        in_shape = tuple(int(d) for d in in_shape)
        dims = (_i64 * len(in_shape))(*in_shape)
        nd, out = _int(), (_i64 * MAX_DIMS)()
        self.ctx.check(_lib.sgad_net_output_dims(self._h, len(in_shape), dims,
                                                 ctypes.byref(nd), out))
        return tuple(out[i] for i in range(nd.value))

    def forward(self, x, scale=None) -> np.ndarray:
        """Runs every layer on x [T, N, ...] (numpy, torch CPU tensor: no copy
        for float32 C-contiguous; integers need scale=)."""
        x = as_float32(x, scale)
        y = np.empty(self.output_shape(x.shape), dtype=np.float32)
        tx, ty = self.ctx.wrap(x), self.ctx.wrap(y)
        try:
            self.ctx.check(_lib.sgad_net_forward(self._h, tx, ty))
        finally:
            _lib.sgad_tensor_free(tx)
            _lib.sgad_tensor_free(ty)
        self._in_shape = x.shape
        return y

    __call__ = forward

    def backward(self, dy, input_grad=True):
        """Back-propagates dy (the output's shape) through the last forward,
        adding into every parameter gradient; returns dx (None without
        input_grad)."""
        if self._in_shape is None:
            raise RuntimeError("backward before forward")
        dy = as_float32(dy, name="dy")
        dx = np.empty(self._in_shape, dtype=np.float32) if input_grad else None
        tdy = self.ctx.wrap(dy)
        tdx = self.ctx.wrap(dx) if input_grad else None
        try:
            self.ctx.check(_lib.sgad_net_backward(self._h, tdy, tdx))
        finally:
            _lib.sgad_tensor_free(tdy)
            if tdx:
                _lib.sgad_tensor_free(tdx)
        return dx

    def zero_grad(self):
        _lib.sgad_net_zero_grad(self._h)

    def train(self, mode=True) -> "Net":
        self.ctx.check(_lib.sgad_net_set_training(self._h, int(bool(mode))))
        return self

    def eval(self) -> "Net":
        return self.train(False)

    def parameters(self):
        """[(name, value, grad)]: "<layer>.<param>" and numpy views (no
        copies: writing into value changes the net)."""
        out = []
        for i in range(_lib.sgad_net_param_count(self._h)):
            name, value, grad = ctypes.c_char_p(), _p(), _p()
            self.ctx.check(_lib.sgad_net_param(self._h, i, ctypes.byref(name),
                                               ctypes.byref(value), ctypes.byref(grad)))
            out.append((name.value.decode(), _view(value, self), _view(grad, self)))
        return out

    def state_dict(self):
        """{name: copy of value}."""
        return {name: value.copy() for name, value, _ in self.parameters()}

    def load_state_dict(self, state):
        for name, value, _ in self.parameters():
            value[...] = np.asarray(state[name], dtype=np.float32).reshape(value.shape)

    def activation(self, layer: int) -> np.ndarray:
        """A copy of layer `layer`'s output in the last forward ([T, N, ...]
        for a spiking layer: its spikes step by step, e.g. for a raster
        plot). Kept for every layer in evaluation mode; in training the net
        keeps only what backward reads, and asking for another layer raises
        SgadError with the library's reason."""
        nd, dims = _int(), (_i64 * MAX_DIMS)()
        self.ctx.check(_lib.sgad_net_activation_dims(self._h, int(layer), ctypes.byref(nd), dims))
        out = np.empty(tuple(dims[i] for i in range(nd.value)), dtype=np.float32)
        t = self.ctx.wrap(out)
        try:
            self.ctx.check(_lib.sgad_net_activation(self._h, int(layer), t))
        finally:
            _lib.sgad_tensor_free(t)
        return out

    def firing_rate(self, layer: int) -> float:
        v = _dbl()
        self.ctx.check(_lib.sgad_net_firing_rate(self._h, layer, ctypes.byref(v)))
        return v.value

    def __repr__(self):
        return "sgad.Net([" + ", ".join(map(repr, self._layers)) + "])"

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.sgad_net_free(self._h)
            self._h = None
            for layer in self._layers:
                # Freed with the net. A layer the garbage collector finalised
                # first (they form a cycle) has already left the context.
                if layer._h:
                    layer._h = None
                    layer._detach()
            self._layers = []
            self._detach()


class Optimizer(_Owned):
    """An sgad_optimizer over every parameter of a net."""

    _kind = None

    def __init__(self, net: Net, **options):
        h = _p()
        net.ctx.check(_lib.sgad_optimizer_create(net.ctx._h, self._kind, net._h,
                                                 ctypes.byref(h)))
        self._h, self.net = h, net
        self._attach(net.ctx)
        for name, value in options.items():
            if value is not None:
                self.set(name, value)

    def set(self, option, value):
        option, value = _option(option, value, C.OPTIMIZER_OPTION_NAMES)
        self.ctx.check(_lib.sgad_optimizer_set(self._h, option, float(value)))
        return self

    def get(self, option) -> float:
        option, _ = _option(option, 0, C.OPTIMIZER_OPTION_NAMES)
        v = _dbl()
        self.ctx.check(_lib.sgad_optimizer_get(self._h, option, ctypes.byref(v)))
        return v.value

    def step(self):
        """Updates the parameters from their gradients."""
        self.ctx.check(_lib.sgad_optimizer_step(self._h))

    def zero_grad(self):
        self.net.zero_grad()

    @property
    def steps(self) -> int:
        return _lib.sgad_optimizer_steps(self._h)

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.sgad_optimizer_free(self._h)
            self._h = None
            self._detach()


class RMSprop(Optimizer):
    """RMSprop (SGAD's: lr 2e-4, alpha 0.99, eps 1e-8)."""
    _kind = C.OPTIMIZER_RMSPROP

    def __init__(self, net, lr=None, alpha=None, eps=None, weight_decay=None):
        super().__init__(net, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam (lr 2e-4, betas 0.9 / 0.999, eps 1e-8)."""
    _kind = C.OPTIMIZER_ADAM

    def __init__(self, net, lr=None, betas=None, eps=None, weight_decay=None):
        b1, b2 = betas if betas is not None else (None, None)
        super().__init__(net, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=weight_decay)
