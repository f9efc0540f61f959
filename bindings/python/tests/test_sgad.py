# SPDX-License-Identifier: MIT
"""The Python bindings (run with /usr/bin/python3 -m pytest): training
steps on numpy batches, sampling into numpy, per-step scores, checkpoints,
errors as exceptions, no copies."""
import ctypes
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import sgad  # noqa: E402


@pytest.fixture
def trainer():
    ctx = sgad.Context(threads=1, seed=3)
    t = sgad.Trainer.preset(ctx, "sgad", "28x28x1", steps=2)
    t.seed(5)
    return t


def batch(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def test_steps_and_figures(trainer):
    trainer.step(batch())
    trainer.step(batch(seed=1))
    assert trainer.iterations == 2
    s = trainer.stats()
    assert s["g_updated"] == 1.0 and s["lr_g"] == pytest.approx(2e-4)
    assert np.isfinite(s["wasserstein"]) and s["grad_norm_g"] > 0


def test_sample_with_steps_rebuilds_the_image(trainer):
    images, steps, scores = trainer.sample(3, seed=7, with_steps=True)
    assert images.shape == (3, 1, 28, 28) and steps.shape == (2, 3, 1, 28, 28)
    assert scores.shape == (2, 3) and np.all(scores[0] == 1.0)
    sx = scores[1][:, None, None, None]
    np.testing.assert_allclose(images, (1 - sx) * steps[0] + sx * steps[1], rtol=1e-5,
                               atol=1e-6)
    again = trainer.sample(3, seed=7)
    np.testing.assert_array_equal(images, again)  # seeded latents


def test_sample_in_batches(trainer):
    trainer.step(batch())
    whole = trainer.sample(11, seed=4, batch=11)
    np.testing.assert_array_equal(whole, trainer.sample(11, seed=4, batch=3))
    images, steps, scores = trainer.sample(11, seed=4, batch=4, with_steps=True)
    _, steps_whole, scores_whole = trainer.sample(11, seed=4, batch=11, with_steps=True)
    np.testing.assert_array_equal(images, whole)
    np.testing.assert_array_equal(steps, steps_whole)
    np.testing.assert_array_equal(scores, scores_whole)
    # batch statistics: the same (seed, batch) give the same images, which
    # depend on the batch (this young G at T = 2 barely spikes: with 4
    # samples a batch it draws the running mode's flat image); G is left
    # as it was
    b4 = trainer.sample(11, seed=4, batch=4, bn="batch")
    np.testing.assert_array_equal(b4, trainer.sample(11, seed=4, batch=4, bn="batch"))
    assert not np.array_equal(b4, trainer.sample(11, seed=4, batch=11, bn="batch"))
    np.testing.assert_array_equal(whole, trainer.sample(11, seed=4, batch=5))
    with pytest.raises(ValueError):
        trainer.sample(11, seed=4, batch=5, bn="batch")  # a last batch of 1
    with pytest.raises(ValueError):
        trainer.sample(4, bn="train")


def test_checkpoint_round_trip(trainer, tmp_path):
    trainer.step(batch())
    path = str(tmp_path / "c.safetensors")
    trainer.save(path)
    other = sgad.Trainer.load(sgad.Context(threads=1), path)
    assert other.iterations == 1
    np.testing.assert_array_equal(trainer.sample(4, seed=2), other.sample(4, seed=2))
    trainer.step(batch(seed=9))
    other.step(batch(seed=9))
    np.testing.assert_array_equal(trainer.sample(4, seed=2), other.sample(4, seed=2))


def test_errors_carry_the_message(trainer, tmp_path):
    with pytest.raises(sgad.SgadError) as e:
        trainer.step(np.zeros((4, 1, 32, 32), dtype=np.float32))
    assert e.value.status == "SGAD_E_SHAPE" and "[1, 28, 28]" in str(e.value)
    with pytest.raises(sgad.SgadError) as e:
        sgad.Trainer.load(sgad.Context(), str(tmp_path / "missing"))
    assert e.value.status == "SGAD_E_IO" and "cannot open" in str(e.value)
    with pytest.raises(sgad.SgadError):
        trainer.set("n_critic", 0)
    with pytest.raises(TypeError):
        trainer.ctx.wrap(np.zeros((2, 2), dtype=np.float64))


def test_arrays_are_shared_not_copied():
    ctx = sgad.Context()
    a = np.zeros((2, 3), dtype=np.float32)
    t = ctx.wrap(a)
    try:
        z = sgad._lib.sgad_draw_latents(ctx._h, 1, t)  # writes through the wrap
        assert z == 0 and np.count_nonzero(a) == 6
    finally:
        sgad._lib.sgad_tensor_free(t)


def test_context_outlives_its_trainers_whatever_the_order():
    ctx = sgad.Context(threads=1)
    t = sgad.Trainer.preset(ctx, "swgan", "28x28x1", steps=2)
    ctx.__del__()  # as at interpreter exit, where finalisers run in any order
    assert ctx._h is not None  # still held for the trainer
    assert t.sample(2, seed=1).shape == (2, 1, 28, 28)
    t.__del__()
    assert ctx._h is None  # released with the last trainer


def test_model_names_come_from_the_library():
    assert sgad.MODELS == {"sgan": 0, "swgan": 1, "sgad": 2, "hybrid": 3}
    out = ctypes.c_int(-1)
    for name, value in sgad.MODELS.items():
        assert sgad._lib.sgad_model_name(value) == name.encode()
        assert sgad._lib.sgad_model_from_name(name.encode(), ctypes.byref(out)) == 0
        assert out.value == value
    out.value = 7
    for wrong in (b"SGAD", b"sgad ", b"", b"unknown"):
        assert sgad._lib.sgad_model_from_name(wrong, ctypes.byref(out)) == 1  # INVALID_ARG
    assert sgad._lib.sgad_model_from_name(None, ctypes.byref(out)) == 1
    assert sgad._lib.sgad_model_from_name(b"sgad", None) == 1
    assert out.value == 7
    assert sgad._lib.sgad_model_name(len(sgad.MODELS)) == b"unknown"
    with pytest.raises(KeyError):
        sgad.Trainer.preset(sgad.Context(threads=1), "SGAD")
