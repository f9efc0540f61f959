# SPDX-License-Identifier: MIT
"""libsgad's enum values, named as in include/sgad/*.h without the SGAD_
prefix (LAYER_LINEAR is SGAD_LAYER_LINEAR).

They are kept here by hand, not generated: the package must install with
pip from bindings/python alone, where the headers are not at hand, and a
ctypes binding has no build step to run a generator in. Instead
tests/test_constants.py parses the headers' `SGAD_... = N` lines and checks
every name below, so a changed or renamed value fails make check-python.
"""

# status.h: sgad_status
OK = 0
E_INVALID_ARG = 1
E_SHAPE = 2
E_NOMEM = 3
E_STATE = 4
E_NUMERIC = 5
E_IO = 6
E_FORMAT = 7
E_UNSUPPORTED = 8
E_INTERNAL = 9

# layer.h: sgad_layer_kind
LAYER_LINEAR = 1
LAYER_CONV2D = 2
LAYER_CONVT2D = 3
LAYER_BATCHNORM1D = 4
LAYER_BATCHNORM2D = 5
LAYER_AVGPOOL2D = 6
LAYER_SIGMOID = 7
LAYER_LEAKY_RELU = 8
LAYER_RESHAPE = 9
LAYER_LIF = 10
LAYER_IF = 11
LAYER_MP = 12
LAYER_ATTENTION = 13
LAYER_REPEAT = 14
LAYER_LAST_STEP = 15
LAYER_TIME_MEAN = 16

# layer.h: sgad_option
OPT_NEURON_TAU = 100
OPT_NEURON_THRESHOLD = 101
OPT_NEURON_V_RESET = 102
OPT_NEURON_RESET_MODE = 103
OPT_NEURON_DETACH_RESET = 104
OPT_NEURON_DECAY_INPUT = 105
OPT_NEURON_SURROGATE = 106
OPT_NEURON_ALPHA = 107
OPT_BN_MOMENTUM = 200
OPT_BN_EPS = 201
OPT_LEAKY_SLOPE = 300
OPT_LR = 400
OPT_RMSPROP_ALPHA = 401
OPT_EPS = 402
OPT_ADAM_BETA1 = 403
OPT_ADAM_BETA2 = 404
OPT_WEIGHT_DECAY = 405
OPT_N_CRITIC = 500
OPT_CLIP = 501
OPT_EMA_DECAY = 502
OPT_SCHEDULE = 503
OPT_SCHEDULE_LENGTH = 504
OPT_SCHEDULE_PERIOD = 505
OPT_INPUT_PATH = 600
OPT_INPUT_PATH_TAKEN = 601

# layer.h: sgad_input_path
PATH_AUTO = 0
PATH_DENSE = 1
PATH_EVENTS = 2
PATH_EVENTS_BY_TRAIN = 3
PATH_EVENTS_BY_PERIOD = 4

# neuron.h: sgad_surrogate, sgad_reset_mode, sgad_encoding
SURROGATE_ATAN = 0
SURROGATE_SIGMOID = 1
SURROGATE_TRIANGLE = 2
RESET_HARD = 0
RESET_SOFT = 1
ENCODE_DIRECT = 0
ENCODE_RATE = 1
ENCODE_TTFS = 2

# optim.h: sgad_optimizer_kind
OPTIMIZER_RMSPROP = 0
OPTIMIZER_ADAM = 1

# preset.h: sgad_image_shape; trainer.h: sgad_loss, sgad_schedule, sgad_sample_flag
SHAPE_28X28X1 = 0
SHAPE_32X32X3 = 1
SHAPE_64X64X3 = 2
LOSS_EM = 0
LOSS_MINIMAX = 1
SCHEDULE_CONSTANT = 0
SCHEDULE_COSINE = 1
SCHEDULE_PAPER = 2
SAMPLE_EMA = 1

# Friendly names for keyword arguments (layer.set("tau", 2.0), surrogate="atan").
OPTION_NAMES = {
    "tau": OPT_NEURON_TAU, "threshold": OPT_NEURON_THRESHOLD, "v_reset": OPT_NEURON_V_RESET,
    "reset_mode": OPT_NEURON_RESET_MODE, "detach_reset": OPT_NEURON_DETACH_RESET,
    "decay_input": OPT_NEURON_DECAY_INPUT, "surrogate": OPT_NEURON_SURROGATE,
    "alpha": OPT_NEURON_ALPHA, "momentum": OPT_BN_MOMENTUM, "bn_eps": OPT_BN_EPS,
    "slope": OPT_LEAKY_SLOPE, "input_path": OPT_INPUT_PATH,
    "input_path_taken": OPT_INPUT_PATH_TAKEN,
}
OPTIMIZER_OPTION_NAMES = {
    "lr": OPT_LR, "alpha": OPT_RMSPROP_ALPHA, "eps": OPT_EPS, "beta1": OPT_ADAM_BETA1,
    "beta2": OPT_ADAM_BETA2, "weight_decay": OPT_WEIGHT_DECAY,
}
SURROGATES = {"atan": SURROGATE_ATAN, "sigmoid": SURROGATE_SIGMOID,
              "triangle": SURROGATE_TRIANGLE}
RESET_MODES = {"hard": RESET_HARD, "soft": RESET_SOFT}
INPUT_PATHS = {"auto": PATH_AUTO, "dense": PATH_DENSE, "events": PATH_EVENTS,
               "events_by_train": PATH_EVENTS_BY_TRAIN,
               "events_by_period": PATH_EVENTS_BY_PERIOD}
