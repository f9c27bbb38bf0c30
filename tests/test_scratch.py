"""Correctness tests for cnnreport.scratch (the NumPy-only networks of report 004).

Every layer, the loss, each optimizer and each schedule is checked against PyTorch in
float64; the full network gradient is also checked by finite differences.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from cnnreport import scratch as S  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-10, 1e-12


def close(a, b, rtol=RTOL, atol=ATOL):
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def t64(a, grad=False):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64, requires_grad=grad)


def check_layer(layer, x, torch_fn, torch_params=()):
    """Forward and backward of ``layer`` versus ``torch_fn(x_t, *torch_params)``."""
    rng = np.random.default_rng(1)
    y = layer.forward(x, training=True)
    xt = t64(x, grad=True)
    yt = torch_fn(xt, *torch_params)
    close(y, yt)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    yt.backward(t64(g))
    close(dx, xt.grad)
    return layer


# ----------------------------------------------------------------------------- layers
def test_linear_forward_backward():
    rng = np.random.default_rng(0)
    lin = S.Linear(7, 4, dtype=np.float64, rng=rng)
    lin.params["b"][:] = rng.standard_normal(4)
    W, b = t64(lin.params["W"].T, True), t64(lin.params["b"], True)
    check_layer(lin, rng.standard_normal((5, 7)), lambda x: F.linear(x, W, b))
    close(lin.grads["W"], W.grad.T)
    close(lin.grads["b"], b.grad)


@pytest.mark.parametrize("cin,cout,k,stride,pad,size", [
    (1, 6, 5, 1, 0, 12), (2, 3, 3, 1, 1, 7), (3, 4, 3, 2, 1, 9), (2, 3, 3, 2, 1, 8),
    (2, 2, 5, 2, 2, 10), (3, 2, 2, 3, 0, 8)])
def test_conv2d_matches_torch(cin, cout, k, stride, pad, size):
    rng = np.random.default_rng(cin * 100 + k * 10 + stride)
    conv = S.Conv2D(cin, cout, k, stride=stride, padding=pad, dtype=np.float64, rng=rng)
    conv.params["b"][:] = rng.standard_normal(cout)
    W, b = t64(conv.params["W"], True), t64(conv.params["b"], True)
    x = rng.standard_normal((3, cin, size, size + 1))  # non-square input on purpose
    check_layer(conv, x, lambda t: F.conv2d(t, W, b, stride=stride, padding=pad))
    close(conv.grads["W"], W.grad)
    close(conv.grads["b"], b.grad)


@pytest.mark.parametrize("k,stride,size", [(2, None, 8), (2, None, 9), (3, 2, 9), (3, 1, 6)])
def test_maxpool_matches_torch(k, stride, size):
    x = np.random.default_rng(k + size).standard_normal((2, 3, size, size))
    check_layer(S.MaxPool2D(k, stride, dtype=np.float64), x,
                lambda t: F.max_pool2d(t, k, stride))


def test_maxpool_ties_follow_torch():
    # After a ReLU many windows are all zero; the gradient must go to one element only.
    x = np.maximum(np.random.default_rng(3).standard_normal((2, 2, 6, 6)), 0)
    x[0, 0, :2, :2] = 0.0
    check_layer(S.MaxPool2D(2, dtype=np.float64), x, lambda t: F.max_pool2d(t, 2))


@pytest.mark.parametrize("layer,fn", [
    (S.ReLU, F.relu), (S.LeakyReLU, lambda t: F.leaky_relu(t, 0.01)),
    (S.Sigmoid, torch.sigmoid), (S.Tanh, torch.tanh)])
def test_activations_match_torch(layer, fn):
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)) * 4
    x[0, 0, 0, :3] = [0.0, -0.0, 40.0]
    x[0, 0, 1, :2] = [-800.0, 800.0]  # sigmoid must not overflow
    check_layer(layer(dtype=np.float64), x, fn)


def test_flatten():
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 5))
    check_layer(S.Flatten(), x, lambda t: torch.flatten(t, 1))


def test_loss_and_gradient_match_torch():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 10)) * 3, rng.integers(0, 10, 6)
    loss = S.SoftmaxCrossEntropy()
    zt = t64(z, True)
    lt = F.cross_entropy(zt, torch.tensor(y))
    lt.backward()
    assert abs(loss.forward(z, y) - lt.item()) < 1e-12
    close(loss.backward(), zt.grad)
    # Stability: huge logits give a finite loss equal to torch's.
    big = z * 1e4
    assert np.isfinite(loss.forward(big, y))
    assert loss.forward(big, y) == pytest.approx(F.cross_entropy(t64(big), torch.tensor(y)).item(),
                                                 rel=1e-12)
    assert S.accuracy(z, y) == pytest.approx((z.argmax(1) == y).mean())


def torch_copy_of(model):
    """A torch.nn.Sequential with the same architecture and weights as a scratch model."""
    mods = []
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Linear":
            m = torch.nn.Linear(layer.in_features, layer.out_features).double()
            m.weight.data = t64(layer.params["W"].T)
            m.bias.data = t64(layer.params["b"])
        elif name == "Conv2D":
            m = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                layer.stride, layer.padding).double()
            m.weight.data, m.bias.data = t64(layer.params["W"]), t64(layer.params["b"])
        elif name == "MaxPool2D":
            m = torch.nn.MaxPool2d(layer.kernel_size, layer.stride)
        elif name == "LeakyReLU":
            m = torch.nn.LeakyReLU(layer.negative_slope)
        else:
            m = {"ReLU": torch.nn.ReLU, "Sigmoid": torch.nn.Sigmoid, "Tanh": torch.nn.Tanh,
                 "Flatten": torch.nn.Flatten}[name]()
        mods.append(m)
    return torch.nn.Sequential(*mods)


@pytest.mark.parametrize("build", [lambda: S.lenet(dtype=np.float64, seed=1),
                                   lambda: S.mlp((20, 15), "sigmoid", dtype=np.float64)])
def test_whole_model_gradients_match_torch(build):
    model = build()
    tmodel = torch_copy_of(model)
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 1, 28, 28)), rng.integers(0, 10, 5)
    loss_fn = S.SoftmaxCrossEntropy()
    loss = loss_fn(model.forward(x, training=True), y)
    dx = model.backward(loss_fn.backward(), input_grad=True)
    xt = t64(x, True)
    lt = F.cross_entropy(tmodel(xt), torch.tensor(y))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    close(dx, xt.grad)
    tparams = [p for m in tmodel for p in m.parameters()]
    ours = [l.grads[n] for l in model.layers for n in ("W", "b") if l.has_params]
    for g, p in zip(ours, tparams):
        close(g, p.grad.T if g.ndim == 2 else p.grad)


def test_finite_difference_full_gradient():
    rng = np.random.default_rng(0)
    f64 = np.float64
    model = S.Sequential([
        S.Conv2D(2, 3, 3, stride=2, padding=1, dtype=f64, rng=rng), S.Tanh(dtype=f64),
        S.MaxPool2D(2, dtype=f64), S.Flatten(), S.Linear(12, 5, dtype=f64, rng=rng),
        S.Sigmoid(dtype=f64), S.Linear(5, 3, dtype=f64, rng=rng)])
    for layer in model.layers:
        for p in layer.params.values():
            p[...] = rng.standard_normal(p.shape) * 0.5
    x, y = rng.standard_normal((2, 2, 9, 9)), np.array([0, 2])
    loss_fn = S.SoftmaxCrossEntropy()

    def f():
        return loss_fn.forward(model.forward(x, training=True), y)

    f()
    dx = model.backward(loss_fn.backward(), input_grad=True)
    analytic = [(x, dx)] + [(l.params[n], l.grads[n].copy()) for l in model.layers
                            for n in l.params]
    eps = 1e-6
    for arr, grad in analytic:
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            fp = f()
            arr[i] = old - eps
            fm = f()
            arr[i] = old
            num[i] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- optim
def _pair(wd=(0.1, 0.0)):
    """A scratch 2-layer MLP and torch param groups: weights decayed, biases not."""
    model = S.mlp((6,), "tanh", weight_decay=list(wd), in_features=4, num_classes=3,
                  dtype=np.float64, seed=2)
    tparams, groups = [], []
    for layer in model.layers:
        if layer.has_params:
            W, b = t64(layer.params["W"], True), t64(layer.params["b"], True)
            tparams += [W, b]
            groups += [{"params": [W], "weight_decay": layer.weight_decay},
                       {"params": [b], "weight_decay": 0.0}]
    return model, tparams, groups


def _same_random_grads(slots, tparams, rng):
    """One random gradient per parameter, given to our layer and to its torch twin."""
    for (layer, name), tp in zip(slots, tparams):
        g = rng.standard_normal(tp.shape)
        layer.grads[name][...] = g
        tp.grad = t64(g)


@pytest.mark.parametrize("ours,theirs", [
    (lambda m: S.SGD(m, lr=0.1), lambda g: torch.optim.SGD(g, lr=0.1)),
    (lambda m: S.Momentum(m, lr=0.1, momentum=0.9),
     lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9)),
    (lambda m: S.Nesterov(m, lr=0.05, momentum=0.8),
     lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.8, nesterov=True)),
    (lambda m: S.Adam(m, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda g: torch.optim.Adam(g, lr=0.01, betas=(0.8, 0.99), eps=1e-6))])
def test_optimizer_steps_match_torch(ours, theirs):
    model, tparams, groups = _pair()
    opt, topt = ours(model), theirs(groups)
    sched, tsched = S.StepLR(opt, 2, 0.5), torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    rng = np.random.default_rng(0)
    slots = [(l, n) for l in model.layers for n in ("W", "b") if l.has_params]
    for step in range(6):
        _same_random_grads(slots, tparams, rng)
        opt.step()
        topt.step()
        if step % 2 == 1:  # lr changes mid-run, which is where momentum conventions differ
            sched.step()
            tsched.step()
        for (layer, name), tp in zip(slots, tparams):
            close(layer.params[name], tp)


def _report004_momentum_step(params, grads, velocity, lr, wd, mu=0.9):
    """Report 004's SGDMomentum.step, transcribed: the weight shrinks by 1 - lr * wd,
    then v = mu * v + g and the parameter moves by -lr * v (biases are not decayed)."""
    for name in params:
        if wd.get(name):
            params[name] *= 1 - lr * wd[name]
        velocity[name] = mu * velocity.get(name, 0.0) + grads[name]
        params[name] -= lr * velocity[name]


def test_decoupled_decay_is_report004s_momentum_step():
    model = S.mlp((6,), "tanh", weight_decay=[0.1, 0.05], in_features=4, num_classes=3,
                  dtype=np.float64, seed=2, decay_mode="decoupled")
    opt = S.Momentum(model, lr=0.1, momentum=0.9)
    sched = S.StepLR(opt, 2, 0.1)
    slots = [(i, l, n) for i, l in enumerate(model.layers) for n in ("W", "b") if l.has_params]
    ref = {f"{i}{n}": l.params[n].copy() for i, l, n in slots}
    wd = {f"{i}W": l.weight_decay for i, l, n in slots if n == "W"}
    velocity, lr, count = {}, 0.1, 0
    rng = np.random.default_rng(0)
    for step in range(8):
        grads = {}
        for i, layer, name in slots:
            g = rng.standard_normal(layer.params[name].shape)
            layer.grads[name][...] = g
            grads[f"{i}{name}"] = g.copy()
        opt.step()
        _report004_momentum_step(ref, grads, velocity, lr, wd)
        if step % 2 == 1:  # an "epoch" ends
            sched.step()
            count += 1  # report 004's StepLR: every step_size-th call multiplies by gamma
            if count == 2:
                lr, count = lr * 0.1, 0
            assert opt.lr == pytest.approx(lr, rel=1e-12)
        for i, layer, name in slots:
            close(layer.params[name], ref[f"{i}{name}"])


def test_decoupled_adam_is_adamw_and_both_adds_the_l2_term():
    model, tparams, groups = _pair()
    for layer in model.layers:
        layer.decay_mode = "decoupled"
    opt = S.Adam(model, lr=0.01)
    topt = torch.optim.AdamW(groups, lr=0.01)
    rng = np.random.default_rng(0)
    slots = [(l, n) for l in model.layers for n in ("W", "b") if l.has_params]
    for _ in range(4):
        _same_random_grads(slots, tparams, rng)
        opt.step()
        topt.step()
        for (layer, name), tp in zip(slots, tparams):
            close(layer.params[name], tp)
    # "both" (report 004's Conv2D): the L2 term of the unshrunk weight enters the momentum
    # buffer, and the weight shrinks as well: W' = (1 - lr wd) W - lr (g + wd W) on step one.
    conv = S.Conv2D(1, 2, 3, weight_decay=0.1, dtype=np.float64, rng=np.random.default_rng(1),
                    decay_mode="both")
    W0 = conv.params["W"].copy()
    g = np.random.default_rng(2).standard_normal(W0.shape)
    conv.grads["W"][...] = g
    conv.grads["b"][...] = 0.0
    S.Momentum([conv], lr=0.5).step()
    close(conv.params["W"], (1 - 0.05) * W0 - 0.5 * (g + 0.1 * W0))
    with pytest.raises(ValueError, match="decay_mode"):
        S.Linear(2, 2, decay_mode="l1")


def test_fixed_std_init_is_report004s_and_he_normal_stays_the_default():
    rng = np.random.default_rng(0)
    for fan_in in (25, 784):
        W = S.Linear(fan_in, 2000, rng=rng, init_std=0.1, dtype=np.float64).params["W"]
        assert abs(W.std() - 0.1) < 0.003 and abs(W.mean()) < 0.003
    he = S.Linear(784, 2000, rng=rng, dtype=np.float64).params["W"]
    assert abs(he.std() - np.sqrt(2 / 784)) < 0.002
    conv = S.Conv2D(6, 16, 5, rng=rng, init_std=0.1, dtype=np.float64).params["W"]
    assert abs(conv.std() - 0.1) < 0.01
    model = S.lenet(init_std=0.1, decay_mode="decoupled", conv_decay_mode="both", weight_decay=1e-3)
    modes = [l.decay_mode for l in model.layers if l.has_params]
    assert modes == ["both", "both", "decoupled", "decoupled", "decoupled"]
    with pytest.raises(ValueError, match="init_std"):
        S.Linear(2, 2, init_std=0.0)


@pytest.mark.parametrize("ours,theirs", [
    (lambda o: S.StepLR(o, 3, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    (lambda o: S.MultiStepLR(o, [2, 5, 9], 0.1),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 9], 0.1)),
    (lambda o: S.ExponentialLR(o, 0.9),
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9))])
def test_schedules_match_torch(ours, theirs):
    model, _, groups = _pair()
    opt = S.SGD(model, lr=0.3)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    sched, tsched = ours(opt), theirs(topt)
    for _ in range(14):
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        topt.step()
        sched.step()
        tsched.step()


# ----------------------------------------------------------------------------- save/load
@pytest.mark.parametrize("build", [lambda: S.mlp((32,), weight_decay=1e-3),
                                   lambda: S.lenet(dtype=np.float64, weight_decay=1e-3),
                                   lambda: S.lenet(weight_decay=1e-3, decay_mode="decoupled",
                                                   conv_decay_mode="both", init_std=0.1)])
def test_save_load_roundtrip(tmp_path, build):
    model = build()
    path = model.save(tmp_path / "m")
    loaded = S.load_model(path)
    x = np.random.default_rng(0).random((7, 1, 28, 28))
    assert loaded.dtype == model.dtype
    assert loaded.spec() == model.spec()
    np.testing.assert_array_equal(loaded.predict_logits(x), model.predict_logits(x))
    with np.load(path, allow_pickle=False) as f:  # readable without pickle
        assert json.loads(str(f["spec"][0]))["layers"][0]["type"] in ("Flatten", "Conv2D")


def _resave(src, dst, edit):
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    edit(arrays)
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize("kind,message", [
    ("garbage", "not a readable .npz"), ("truncated", "not a readable .npz"),
    ("npy", "not a readable .npz"), ("missing", "missing weight arrays"),
    ("shape", "shape mismatch for layer1.W"), ("extra", "unexpected arrays"),
    ("spec", "invalid architecture spec"), ("nospec", "no 'spec' entry")])
def test_load_errors_name_file_and_problem(tmp_path, kind, message):
    good = S.mlp((8,)).save(tmp_path / "good.npz")
    bad = tmp_path / f"{kind}.npz"
    if kind == "garbage":
        bad.write_bytes(b"this is not a zip file" * 10)
    elif kind == "truncated":
        bad.write_bytes(Path(good).read_bytes()[:200])
    elif kind == "npy":
        np.save(bad.with_suffix(".npy"), np.zeros(3))
        bad = bad.with_suffix(".npy")
    else:
        edits = {"missing": lambda a: a.pop("layer3.b"),
                 "shape": lambda a: a.__setitem__("layer1.W", np.zeros((784, 9), np.float32)),
                 "extra": lambda a: a.__setitem__("layer9.W", np.zeros(2)),
                 "spec": lambda a: a.__setitem__("spec", np.array(["{not json"])),
                 "nospec": lambda a: a.pop("spec")}
        _resave(good, bad, edits[kind])
    with pytest.raises(ValueError, match=message) as info:
        S.load_model(bad)
    assert str(bad) in str(info.value)


# ----------------------------------------------------------------------------- no torch
def test_scratch_never_imports_torch():
    code = ("import sys, numpy as np\n"
            "import cnnreport.scratch as S\n"
            "from cnnreport.scratch import augment, conv, layers, losses, model, optim, search, train\n"
            "d = {'x_train': np.zeros((60, 28, 28), np.uint8), 'y_train': np.arange(60) % 10,\n"
            "     'x_test': np.zeros((10, 28, 28), np.uint8), 'y_test': np.arange(10)}\n"
            "S.train(S.lenet(), d, epochs=1, progress=True, augment=True)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    res = _run_numpy_only(code)
    assert res.returncode == 0, res.stderr


# ----------------------------------------------------------------------------- augment
def test_augment_identity_shape_dtype_and_count():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    same = S.augment_images(x, seed=0, max_rotation=0, max_shift=0, p_rotate=1, p_shift=1)
    np.testing.assert_array_equal(same, x)
    n = len(x)
    zeros = np.zeros(n)
    np.testing.assert_array_equal(S.warp_affine(x, zeros, zeros, zeros), x)
    out = S.augment_images(x, seed=1)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.array_equal(out, x)
    xf = rng.random((5, 1, 28, 28)).astype(np.float32)
    assert S.augment_images(xf, seed=2).dtype == np.float32
    xa, ya = S.augment_dataset(x, np.arange(n), seed=3)
    assert xa.shape == (2 * n, 28, 28) and list(ya) == list(range(n)) * 2
    np.testing.assert_array_equal(xa[:n], x)


def test_augment_shift_and_rotation_geometry():
    img = np.zeros((1, 28, 28))
    img[0, 10, 12] = 1.0
    shifted = S.warp_affine(img, np.zeros(1), np.array([3 / 28]), np.array([-2 / 28]))
    assert shifted[0, 8, 15] == pytest.approx(1.0)  # 3 px right, 2 px up
    rot = S.warp_affine(img, np.array([90.0]), np.zeros(1), np.zeros(1))
    assert rot.sum() == pytest.approx(1.0)  # pixel mass kept for an exact quarter turn


# ----------------------------------------------------------------------------- training
def _mnist_path():
    root = Path(os.environ.get("CNNREPORT_DATA", REPO / "data"))
    for p in (root / "mnist.npz", REPO.parent / "shared" / "data" / "mnist.npz"):
        if p.is_file():
            return p
    pytest.skip("mnist.npz not found (set CNNREPORT_DATA or run `make data`)")


def _run_numpy_only(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with one BLAS thread.  On the shared 2-core
    test machines a multi-threaded BLAS slows these small matmuls down many times over
    when other jobs hold the cores; a fresh process is the only portable way to set
    the thread count before NumPy loads it."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def test_short_mnist_training_reaches_85_percent():
    code = f"""
import json, numpy as np
from cnnreport import scratch as S
d = S.load_mnist({str(_mnist_path())!r})
data = {{"x_train": d["x_train"][:2000], "y_train": d["y_train"][:2000],
         "x_test": d["x_test"], "y_test": d["y_test"]}}
model = S.mlp((256,), weight_decay=1e-4, seed=0)
opt = S.Momentum(model, lr=0.05)
h = S.train(model, data, epochs=10, batch_size=32, optimizer=opt,
            schedule=S.StepLR(opt, 5, 0.1), progress=False, seed=0)
print(json.dumps(h.to_dict()))
"""
    res = _run_numpy_only(code)
    assert res.returncode == 0, res.stderr
    h = json.loads(res.stdout.strip().splitlines()[-1])
    assert h["train_size"] == 1667 and h["val_size"] == 333
    assert h["best_epoch"] == int(np.argmax(h["val_acc"])) + 1  # selected on validation
    assert h["test_acc"] > 0.85, h


def test_early_stopping_and_grid_search_tiny():
    rng = np.random.default_rng(0)
    data = {"x_train": rng.integers(0, 256, (120, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, 120),
            "x_test": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, 20)}
    model = S.mlp((16,))
    h = S.train(model, data, epochs=30, optimizer=S.SGD(model, lr=1e-9), patience=2,
                progress=False)  # lr ~ 0: no val gain after epoch 1
    assert h.stopped_early and h.epochs_run == 3 and h.best_epoch == 1
    rows = S.grid_search({"lr": [0.1, 0.01], "hidden": [8]}, data, subsample_fraction=0.5,
                         base={"epochs": 1}, verbose=False)
    assert [r["lr"] for r in rows] == [0.1, 0.01] and all("val_acc" in r for r in rows)
    assert "test_acc" in S.format_table(rows)
