import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

import cnnreport.core.landscape as L
from cnnreport.core.components import LOSSES
from cnnreport.models import MODELS
from cnnreport.core.store import Result, ResultStore
from cnnreport.training import fit

TINY = dict(dataset="tiny", model="vgg_a_bn", model_args={"width": 0.125, "dropout": 0.5}, epochs=2,
            batch_size=16, optimizer="sgd", lr=0.05, momentum=0.9, schedule="none", val_fraction=0.25,
            device="cpu", seed=1)


def _snapshot(model, opt):
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "grad": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "opt": copy.deepcopy(opt.state_dict()),
        "flags": [m.training for m in model.modules()],
        "rng": torch.get_rng_state(),
    }


def _assert_same(a, b):
    assert a["state"].keys() == b["state"].keys()
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
    assert any("num_batches_tracked" in k for k in a["state"])
    for ga, gb in zip(a["grad"], b["grad"]):
        assert (ga is None and gb is None) or torch.equal(ga, gb)
    sa, sb = a["opt"]["state"], b["opt"]["state"]
    assert sa.keys() == sb.keys() and len(sa) > 0
    for i in sa:
        for k in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (i, k)
    assert a["opt"]["param_groups"] == b["opt"]["param_groups"]
    assert a["flags"] == b["flags"]
    assert torch.equal(a["rng"], b["rng"])


@pytest.mark.parametrize("optim", ["sgd", "adam"])
@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_probe_restores_everything(optim, mode):
    torch.manual_seed(0)
    model = MODELS.build("vgg_a_bn", num_classes=4, width=0.125, dropout=0.5)
    loss_fn = LOSSES.build("cross_entropy")
    opt = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if optim == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 4
    model.train()
    for _ in range(2):  # real steps, so momentum / Adam moments, BN stats and .grad are populated
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    if mode == "eval":
        model.eval()
    elif mode == "mixed":
        model.train()
        [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)][0].eval()
    before = _snapshot(model, opt)
    p = L.probe_step(model, loss_fn, x, y, 0.05, [0.0, 0.025, 0.05, 0.2])
    _assert_same(before, _snapshot(model, opt))
    # Every probe forward drew the same dropout mask: at eta = 0 nothing changes.
    assert p["losses"][0] == p["loss"] and p["grad_pred"][0] == 0.0 and math.isnan(p["betas"][0])
    assert len(p["losses"]) == len(p["grad_pred"]) == 4
    assert p["loss_range"] == (min(p["losses"]), max(p["losses"])) == (p["loss_min"], p["loss_max"])
    assert p["gradpred_max"] == max(p["grad_pred"]) and p["beta_smooth"] == max(p["betas"][1:]) > 0
    if mode == "train":
        # The probe saw what the next training forward sees: same weights, batch stats, masks.
        assert loss_fn(model(x), y).item() == pytest.approx(p["loss"], abs=1e-6)


class Quadratic(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x):
        return self.w


def _spd(lams, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(lams), len(lams), generator=g, dtype=torch.float64))
    return q @ torch.diag(torch.tensor(lams, dtype=torch.float64)) @ q.T, q


def test_quadratic_closed_form():
    lams = [0.5, 1.0, 2.0, 3.0, 5.0]
    H, Q = _spd(lams)
    loss_fn = lambda out, y: 0.5 * out @ H @ out  # noqa: E731 -- ignores x, y by design
    w = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0], dtype=torch.float64)
    model = Quadratic(w)
    etas = [0.01, 0.1, 0.3]
    p = L.probe_step(model, loss_fn, torch.zeros(1), torch.zeros(1), 0.1, etas)
    assert torch.equal(model.w.detach(), w)
    g = H @ w
    rayleigh = float((H @ g).norm() / g.norm())
    assert p["loss"] == pytest.approx(float(0.5 * w @ H @ w), rel=1e-12)
    assert p["grad_norm"] == pytest.approx(float(g.norm()), rel=1e-12)
    for eta, le, d, b in zip(etas, p["losses"], p["grad_pred"], p["betas"]):
        we = w - eta * g
        assert le == pytest.approx(float(0.5 * we @ H @ we), rel=1e-9)
        assert d == pytest.approx(eta * float((H @ g).norm()), rel=1e-9)
        assert b == pytest.approx(rayleigh, rel=1e-6)
    assert p["beta_smooth"] == pytest.approx(rayleigh, rel=1e-6) and p["beta_smooth"] <= max(lams) + 1e-9
    for k, lam in enumerate(lams):  # along an eigenvector the smoothness is its eigenvalue
        p = L.probe_step(Quadratic(2.0 * Q[:, k]), loss_fn, torch.zeros(1), None, 0.1, [0.05, 0.2])
        assert p["beta_smooth"] == pytest.approx(lam, rel=1e-6)


def test_train_with_probes_leaves_training_alone(tiny, tmp_path, monkeypatch):
    # fp32, so that the probe's fp32 loss and the step's loss agree to rounding (bf16 differs by ~1e-4)
    FP32 = dict(TINY, precision="fp32")
    out = L.train_with_probes(FP32, probe_every=3, eta_factors=(0.5, 1, 2), data=tiny, progress=False)
    n_steps = 2 * math.ceil(90 / 16)
    assert len(out["train_loss"]) == n_steps
    assert out["step"] == list(range(0, n_steps, 3))
    for k in L.PROBE_KEYS + ("losses", "grad_pred"):
        assert len(out[k]) == len(out["step"]), k
    assert all(len(v) == 3 for v in out["losses"])
    assert all(lo <= hi for lo, hi in zip(out["loss_min"], out["loss_max"]))
    assert all(b > 0 for b in out["beta_smooth"]) and out["lr"] == [0.05] * len(out["step"])
    # Each probe saw the step's own batch and weights: L(w) is that step's training loss.
    for s, l0 in zip(out["step"], out["loss"]):
        assert l0 == pytest.approx(out["train_loss"][s], abs=1e-5)
    plain = fit(FP32, progress=False, data=tiny)
    assert plain.steps["loss"] == out["train_loss"]

    # Cached: a second call reads the JSON, the plain results store stays empty.
    cached = L.landscape_or_load(FP32, 3, (0.5, 1, 2), store=tmp_path, data=tiny, progress=False)
    monkeypatch.setattr(L, "train_with_probes", lambda *a, **k: pytest.fail("retrained"))
    again = L.landscape_or_load(FP32, 3, (0.5, 1, 2), store=ResultStore(tmp_path))
    assert again["step"] == cached["step"] and np.allclose(again["beta_smooth"], cached["beta_smooth"])
    assert again["train_loss"] == out["train_loss"] and len(ResultStore(tmp_path)) == 0
    assert L.cache_path(FP32, 3, (0.5, 1, 2), tmp_path) != L.cache_path(FP32, 2, (0.5, 1, 2), tmp_path)
    with pytest.raises(ValueError):
        fit(FP32, store=ResultStore(tmp_path), step_callback=lambda *a: None, data=tiny)


def _result(lr, losses):
    return Result(key=f"k{lr}", config={"lr": lr}, steps={"loss": losses, "lr": [lr] * len(losses)})


def test_loss_band():
    rs = [_result(1e-3, [3.0, 2.0, 1.0, 0.5, 0.1]), _result(1e-4, [2.5, 2.6, float("nan"), 1.5]),
          _result(5e-4, [2.8, None, float("inf"), 1.0, 0.9])]
    band = L.loss_band(rs)
    assert list(band["step"]) == [0, 1, 2, 3]
    assert np.allclose(band["min"], [2.5, 2.0, 1.0, 0.5]) and np.allclose(band["max"], [3.0, 2.6, 1.0, 1.5])
    assert np.allclose(band["mean"], [2.7666666666, 2.3, 1.0, 1.0])
    assert band["n_runs"] == 3 and band["lrs"] == [1e-3, 1e-4, 5e-4]
    one = L.loss_band([_result(1e-3, [1.0, float("nan")])])
    assert one["min"][0] == 1.0 and math.isnan(one["max"][1])
    with pytest.raises(ValueError):
        L.loss_band([])


def test_landscape_cache_uses_the_one_hash_writer_and_reader(tmp_path, monkeypatch):
    from cnnreport.core import cache
    from cnnreport.core.config import RunConfig
    path = L.cache_path(TINY, 3, (0.5, 1, 2), tmp_path)
    settings = {"probe_every": 3, "eta_factors": [0.5, 1.0, 2.0], "version": L.CACHE_VERSION}
    assert path == tmp_path / "landscape" / f"{RunConfig.from_dict(TINY).key()}-{cache.key_of(settings)}.json"
    fake = {"step": [0, 3], "beta_smooth": [1.5, float("nan")], "losses": [[1.0, np.float32(2)], [3.0]],
            "config": RunConfig.from_dict(TINY).to_dict(), "status": "ok"}
    monkeypatch.setattr(L, "train_with_probes", lambda *a, **k: fake)
    L.landscape_or_load(TINY, 3, (0.5, 1, 2), store=tmp_path)
    assert json.loads(path.read_text())["beta_smooth"] == [1.5, None]  # standard JSON on disk
    monkeypatch.setattr(L, "train_with_probes", lambda *a, **k: pytest.fail("retrained"))
    back = L.landscape_or_load(TINY, 3, (0.5, 1, 2), store=tmp_path)
    assert back["beta_smooth"][0] == 1.5 and math.isnan(back["beta_smooth"][1])  # NaN again
    assert back["losses"] == [[1.0, 2.0], [3.0]] and not list(path.parent.glob("*.tmp"))
    path.write_text('{"step": [0, ')  # a copy cut short
    with pytest.raises(cache.CorruptFileError, match="Delete it to recompute") as e:
        L.landscape_or_load(TINY, 3, (0.5, 1, 2), store=tmp_path)
    assert str(path) in str(e.value) and "landscape cache" in str(e.value)
