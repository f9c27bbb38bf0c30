"""Precision follows the hardware: bf16 where matrix products run natively in bf16, fp32
elsewhere; both CPU paths train, and each result says which one it used."""
import pytest
import torch

from cnnreport.training import fit
from cnnreport.core import hardware as H
from cnnreport.training.setup import autocast_for, build_setup
from cnnreport.core.config import RunConfig

SMALL = dict(dataset="tiny", model="basic_cnn", model_args={}, epochs=6, batch_size=16, optimizer="adam",
             lr=3e-3, val_fraction=0.25, device="cpu", seed=1)


@pytest.mark.parametrize("flags, capability, auto", [
    ({"amx_bf16": True, "avx512_bf16": True}, "amx_bf16", "bf16"),
    ({"amx_bf16": False, "avx512_bf16": True}, "avx512_bf16", "bf16"),
    ({"amx_bf16": False, "avx512_bf16": False}, "none", "fp32"),
])
def test_auto_precision_follows_the_cpu_flags(monkeypatch, flags, capability, auto):
    monkeypatch.setattr(H, "cpu_flags", lambda: flags)
    cpu = torch.device("cpu")
    assert H.cpu_capability() == capability
    assert H.resolve_precision(cpu, "auto") == auto
    assert H.resolve_precision(cpu, "fp32") == "fp32" and H.resolve_precision(cpu, "bf16") == "bf16"
    assert H.resolve_precision(torch.device("cuda"), "auto") == "bf16"
    bf16 = autocast_for(cpu, "auto")()
    assert isinstance(bf16, torch.autocast) == (auto == "bf16")


def test_channels_last_comes_with_bf16_unless_asked(monkeypatch, tiny):
    monkeypatch.setattr(H, "cpu_flags", lambda: {"amx_bf16": True, "avx512_bf16": False})
    cfg = RunConfig(**SMALL)
    assert build_setup(cfg, tiny).channels_last
    assert not build_setup(cfg.replace(precision="fp32"), tiny).channels_last
    assert not build_setup(cfg.replace(channels_last=False), tiny).channels_last


def test_cpu_flags_are_read_from_this_machine():
    flags = H.cpu_flags()
    assert set(flags) == set(H.BF16_FLAGS + H.FP32_FLAGS) and all(isinstance(v, bool) for v in flags.values())
    assert H.rate_class() in ("amx_bf16", "avx512_bf16", "fp32_avx512", "fp32_avx2", "fp32")


@pytest.mark.parametrize("flags, auto, fp32", [
    ({"amx_bf16": True, "avx512_bf16": True, "avx512f": True, "avx2": True}, "amx_bf16", "fp32_avx512"),
    ({"amx_bf16": False, "avx512_bf16": True, "avx512f": True, "avx2": True}, "avx512_bf16", "fp32_avx512"),
    ({"amx_bf16": False, "avx512_bf16": False, "avx512f": True, "avx2": True}, "fp32_avx512", "fp32_avx512"),
    ({"amx_bf16": False, "avx512_bf16": False, "avx512f": False, "avx2": True}, "fp32_avx2", "fp32_avx2"),
    ({"amx_bf16": False, "avx512_bf16": False}, "fp32", "fp32"),
])
def test_rate_class_names_the_path_a_run_trains_on(monkeypatch, flags, auto, fp32):
    monkeypatch.setattr(H, "cpu_flags", lambda: flags)
    assert H.rate_class("auto") == auto
    assert H.rate_class("fp32") == fp32  # a run that asks for fp32 trains on the fp32 vectors anywhere


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_cpu_paths_train_and_say_so(tiny, precision):
    r = fit(dict(SMALL, precision=precision), progress=False, data=tiny)
    assert r.status == "ok" and r.test_acc > 0.6, r.history["val_acc"]  # 4 classes: chance is 0.25
    assert r.environment["precision"] == precision
    assert r.environment["channels_last"] == (precision == "bf16")
    assert set(r.environment["cpu_flags"]) == set(H.BF16_FLAGS + H.FP32_FLAGS)


def test_precision_is_not_part_of_the_key():
    cfg = RunConfig(**SMALL)
    assert cfg.key() == cfg.replace(precision="bf16").key() == cfg.replace(precision="fp32").key()


def _failing_compiler(model):
    """A stand-in for torch.compile whose compiled model raises as Inductor does without a
    C++ compiler: the error type lives in a torch._inductor module."""
    err = type("CppCompileError", (RuntimeError,), {"__module__": "torch._inductor.exc"})

    def compiled(x):
        raise err("no working C++ compiler found")
    return compiled


def test_a_failed_compile_trains_eagerly_and_says_so(tiny, monkeypatch):
    monkeypatch.setattr(torch, "compile", _failing_compiler)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        r = fit(dict(SMALL, compile=True), progress=False, data=tiny)
    eager = fit(dict(SMALL), progress=False, data=tiny)
    assert r.status == "ok" and "CppCompileError" in r.environment["compile_failed"]
    assert r.history["train_loss"] == eager.history["train_loss"]  # the same run, trained eagerly
    assert "compile_failed" not in eager.environment


def test_an_error_of_the_model_itself_is_not_hidden_by_the_fallback():
    from cnnreport.training.setup import CompiledOrEager

    def compiler(model):
        def compiled(x):
            raise ValueError("shape mismatch in the model")
        return compiled
    step = CompiledOrEager(torch.nn.Identity(), compiler)
    with pytest.raises(ValueError, match="shape mismatch"):
        step(torch.zeros(1))
    assert step.failed is None
