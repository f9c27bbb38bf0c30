"""Speed of the NumPy networks (cnnreport.scratch) against the same networks in PyTorch.

Both frameworks train report 004's two models on MNIST at batch 32 with momentum SGD
and weight decay 1e-3, on the CPU, in float32, in one process.  Timing is interleaved
(NumPy chunk, torch chunk, NumPy chunk, ...) so that load from other processes and
clock changes hit both sides alike.  By default each chunk is a fixed number of
batches and seconds/epoch are extrapolated to a full epoch of the 5:1 training split
(50,000 images = 1,563 batches); ``--full-epochs K`` instead times K whole epochs each.

Only the training loop is timed (batch gather, forward, loss, backward, update), not
the per-epoch validation pass, for both frameworks.  Besides wall-clock seconds the
JSON has process CPU seconds per epoch: with one thread that is the compute time
alone, which stays meaningful when other jobs share the machine.

Threads: the default is 1 BLAS/OpenMP thread for both frameworks.  On the 2-core
machine shared with other jobs, 2 threads made *both* frameworks 5-15x slower
(worker threads spin-wait for a core that another process holds); on an idle machine
2 threads gain ~25% on the MLP.  Use ``--threads 2`` to measure that case.

    PYTHONPATH=. python bench/scratch_speed.py --out results/scratch_speed.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="where to write the JSON result")
    p.add_argument("--data", default=None, help="mnist.npz (default: $CNNREPORT_DATA/mnist.npz, "
                   "then data/mnist.npz, then ../shared/data/mnist.npz beside the repository)")
    p.add_argument("--models", default="mlp,lenet", help="comma list from mlp,lenet")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--batches", type=int, default=200, help="batches per timed chunk")
    p.add_argument("--rounds", type=int, default=5, help="interleaved chunks per framework")
    p.add_argument("--full-epochs", type=int, default=0,
                   help="time this many full epochs per framework instead of chunks")
    p.add_argument("--warmup", type=int, default=20, help="untimed batches first")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/OpenMP threads for both frameworks (default 1, see above)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


ARGS = parse_args()
# Thread counts must be fixed before NumPy/torch load their BLAS/OpenMP runtimes.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from cnnreport import scratch as S  # noqa: E402

torch.set_num_threads(ARGS.threads)

# Report 004's settings for each model.
SETTINGS = {"mlp": {"lr": 0.1, "weight_decay": 1e-3}, "lenet": {"lr": 0.01, "weight_decay": 1e-3}}


def torch_model(name: str) -> torch.nn.Module:
    act = torch.nn.LeakyReLU
    if name == "mlp":
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1000), act(),
                                   torch.nn.Linear(1000, 10))
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), act(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), act(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(256, 128), act(), torch.nn.Linear(128, 64), act(),
        torch.nn.Linear(64, 10))


class NumpyRunner:
    def __init__(self, name, x, y):
        cfg = SETTINGS[name]
        build = S.mlp if name == "mlp" else S.lenet
        self.model = build(weight_decay=cfg["weight_decay"], dtype=np.float32, seed=ARGS.seed)
        self.opt = S.Momentum(self.model, lr=cfg["lr"], momentum=0.9)
        self.loss_fn = S.SoftmaxCrossEntropy()
        self.x, self.y = x, y
        self.last_loss = float("nan")

    def run(self, batches):  # batches: list of index arrays
        for idx in batches:
            self.last_loss, _ = S.train_step(self.model, self.loss_fn, self.opt,
                                              self.x[idx], self.y[idx])


class TorchRunner:
    def __init__(self, name, x, y):
        cfg = SETTINGS[name]
        torch.manual_seed(ARGS.seed)
        self.model = torch_model(name)
        # Decay the weights only, as the NumPy optimizer does.
        decay = [p for n, p in self.model.named_parameters() if n.endswith("weight")]
        rest = [p for n, p in self.model.named_parameters() if not n.endswith("weight")]
        self.opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg["weight_decay"]},
                                    {"params": rest, "weight_decay": 0.0}],
                                   lr=cfg["lr"], momentum=0.9)
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.last_loss = float("nan")

    def run(self, batches):
        model, opt, F = self.model, self.opt, torch.nn.functional
        model.train()
        for idx in batches:
            idx_t = torch.from_numpy(idx)
            loss = F.cross_entropy(model(self.x[idx_t]), self.y[idx_t])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.last_loss = float(loss.item())


def mnist_path():
    for p in (ARGS.data, os.path.join(os.environ.get("CNNREPORT_DATA", ""), "mnist.npz"),
              os.path.join(REPO, "data", "mnist.npz"),
              os.path.join(os.path.dirname(REPO), "shared", "data", "mnist.npz")):
        if p and os.path.exists(p):
            return p
    sys.exit("mnist.npz not found; pass --data")


def timed(runner, batches):
    t0, c0 = time.perf_counter(), time.process_time()
    runner.run(batches)
    return time.perf_counter() - t0, time.process_time() - c0


def bench_model(name, x, y, rng):
    n_per_epoch = -(-len(x) // ARGS.batch_size)
    runners = {"numpy": NumpyRunner(name, x, y), "torch": TorchRunner(name, x, y)}

    def epoch_batches():
        perm = rng.permutation(len(x))
        return [perm[i:i + ARGS.batch_size] for i in range(0, len(x), ARGS.batch_size)]

    warm = epoch_batches()[:ARGS.warmup]
    for r in runners.values():
        r.run(warm)
    per_epoch = {"numpy": [], "torch": []}
    cpu_per_epoch = {"numpy": [], "torch": []}
    rounds = ARGS.full_epochs or ARGS.rounds
    for k in range(rounds):
        batches = epoch_batches()
        if not ARGS.full_epochs:
            batches = batches[:ARGS.batches]
        # Alternate which side goes first so neither always runs on a "warmer" machine.
        order = ["numpy", "torch"] if k % 2 == 0 else ["torch", "numpy"]
        for fw in order:
            secs, cpu = timed(runners[fw], batches)
            per_epoch[fw].append(secs * n_per_epoch / len(batches))
            cpu_per_epoch[fw].append(cpu * n_per_epoch / len(batches))
            print(f"  {name:5s} {fw:5s} round {k + 1}/{rounds}: {secs:7.2f} s for "
                  f"{len(batches)} batches -> {per_epoch[fw][-1]:6.2f} s/epoch "
                  f"(loss {runners[fw].last_loss:.3f})", flush=True)
    res = {"batches_per_epoch": n_per_epoch, "batches_timed_per_round":
           n_per_epoch if ARGS.full_epochs else min(ARGS.batches, n_per_epoch)}
    for fw in per_epoch:
        v = np.array(per_epoch[fw])
        res[fw] = {"s_per_epoch_median": float(np.median(v)), "s_per_epoch_mean": float(v.mean()),
                   "s_per_epoch_min": float(v.min()),
                   "s_per_epoch_rounds": [float(t) for t in v],
                   "cpu_s_per_epoch_median": float(np.median(cpu_per_epoch[fw])),
                   "final_train_loss": runners[fw].last_loss}
    # Medians: other processes on a shared machine produce occasional very slow chunks.
    res["ratio_numpy_over_torch"] = (res["numpy"]["s_per_epoch_median"]
                                     / res["torch"]["s_per_epoch_median"])
    res["numpy_params"] = runners["numpy"].model.num_params()
    res["torch_params"] = sum(p.numel() for p in runners["torch"].model.parameters())
    return res


def main():
    d = S.load_mnist(mnist_path())
    # The 5:1 split of report 004: timing uses the 50,000-image training part.
    (xtr, ytr), _ = S.split_train_val(d["x_train"], d["y_train"], seed=ARGS.seed)
    x = np.ascontiguousarray(S.prepare_images(xtr, np.float32))  # (50000, 1, 28, 28)
    y = ytr.astype(np.int64)
    rng = np.random.default_rng(ARGS.seed)
    targets = {"mlp": 12.0, "lenet": 24.0}  # s/epoch: 5 epochs <= 60 s and <= 120 s
    out = {"config": {k: v for k, v in vars(ARGS).items()},
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "python": platform.python_version(), "numpy": np.__version__,
                       "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                       "loadavg_start": os.getloadavg()},
           "results": {}}
    for name in ARGS.models.split(","):
        print(f"{name}: batch {ARGS.batch_size}, {ARGS.threads} threads", flush=True)
        r = bench_model(name, x, y, rng)
        r["target_s_per_epoch"] = targets[name]
        r["numpy_meets_target"] = r["numpy"]["s_per_epoch_median"] <= targets[name]
        out["results"][name] = r
    out["machine"]["loadavg_end"] = os.getloadavg()
    print(f"\nmedian over rounds; load average {out['machine']['loadavg_end']}")
    print(f"{'model':6s} {'numpy s/ep':>11s} {'torch s/ep':>11s} {'ratio':>6s} {'target':>7s}"
          f" {'numpy cpu-s':>12s} {'torch cpu-s':>12s}")
    for name, r in out["results"].items():
        print(f"{name:6s} {r['numpy']['s_per_epoch_median']:11.2f} "
              f"{r['torch']['s_per_epoch_median']:11.2f} {r['ratio_numpy_over_torch']:6.2f} "
              f"{r['target_s_per_epoch']:7.1f} {r['numpy']['cpu_s_per_epoch_median']:12.2f} "
              f"{r['torch']['cpu_s_per_epoch_median']:12.2f}")
    os.makedirs(os.path.dirname(os.path.abspath(ARGS.out)), exist_ok=True)
    with open(ARGS.out, "w") as f:
        json.dump(out, f, indent=2)
    print(f"wrote {ARGS.out}")


if __name__ == "__main__":
    main()
