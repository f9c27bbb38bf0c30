"""The trainer's public names, kept where the chapters, the queue and the benchmarks
import them from; the code lives in :mod:`cnnreport.training`."""
from .training import (Callback, Checkpoint, CsvLog, OutOfTime, Setup, StepProbe, TensorBoardLog,
                       autocast_for, build_setup, evaluate, fit, normalization, resolve_device,
                       split_data)

__all__ = ["Callback", "Checkpoint", "CsvLog", "OutOfTime", "Setup", "StepProbe", "TensorBoardLog",
           "autocast_for", "build_setup", "evaluate", "fit", "normalization", "resolve_device",
           "split_data"]
