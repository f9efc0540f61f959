# SPDX-License-Identifier: MIT
"""Every constant the Python package keeps (sgad.constants, and the
Trainer's tables in sgad/__init__.py) has the value include/sgad/*.h gives
its SGAD_ name: the headers are parsed, not trusted to stay put."""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import sgad  # noqa: E402
from sgad import constants  # noqa: E402

INCLUDE = os.path.join(HERE, "..", "..", "..", "include", "sgad")


def header_enums():
    values = {}
    for path in glob.glob(os.path.join(INCLUDE, "*.h")):
        for name, value in re.findall(r"\b(SGAD_[A-Z0-9_]+)\s*=\s*(-?\d+)\b", open(path).read()):
            assert values.get(name, int(value)) == int(value), name
            values[name] = int(value)
    return values


def test_every_python_constant_matches_its_header():
    enums = header_enums()
    names = [n for n in dir(constants) if re.fullmatch(r"[A-Z][A-Z0-9_]*", n)
             and isinstance(getattr(constants, n), int)]
    assert len(names) > 70
    for name in names:
        assert "SGAD_" + name in enums, f"SGAD_{name} is not in include/sgad/*.h"
        assert enums["SGAD_" + name] == getattr(constants, name), name


def test_whole_enums_are_covered():
    """Each enum the package wraps is copied whole: a value added to the
    header must be added here too."""
    enums = header_enums()
    for prefix in ("SGAD_E_", "SGAD_LAYER_", "SGAD_OPT_", "SGAD_PATH_", "SGAD_SURROGATE_",
                   "SGAD_RESET_", "SGAD_ENCODE_", "SGAD_OPTIMIZER_", "SGAD_SHAPE_",
                   "SGAD_LOSS_", "SGAD_SCHEDULE_"):
        for name in enums:
            if name.startswith(prefix):
                assert hasattr(constants, name[5:]), f"{name} has no Python constant"


def test_trainer_tables_match_the_headers():
    enums = header_enums()
    for key, value in sgad.SHAPES.items():
        assert enums["SGAD_SHAPE_" + key.upper()] == value
    for key, value in sgad.LOSSES.items():
        assert enums["SGAD_LOSS_" + key.upper()] == value
    for key, value in sgad.OPTIMIZERS.items():
        assert enums["SGAD_OPTIMIZER_" + key.upper()] == value
    for key, value in sgad.OPTIONS.items():
        assert enums["SGAD_OPT_" + key.upper()] == value
    for k, name in enumerate(sgad.STATS):
        assert enums["SGAD_STAT_" + name.upper()] == k
    assert enums["SGAD_SAMPLE_EMA"] == sgad.SAMPLE_EMA
    assert enums["SGAD_OK"] == constants.OK
    for status in range(constants.OK, constants.E_INTERNAL + 1):
        assert sgad._lib.sgad_status_name(status)
