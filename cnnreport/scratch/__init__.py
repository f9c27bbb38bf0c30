"""From-scratch neural networks in NumPy (report 004's MLP and LeNet on MNIST).

Nothing in this subpackage imports torch, directly or indirectly; the tests check it
in a fresh interpreter.  PyTorch appears only in the tests (as the reference for every
gradient and optimizer step) and in ``bench/scratch_speed.py``.

Quick start::

    from cnnreport.scratch import mlp, load_mnist, Momentum, StepLR, train
    data = load_mnist("/path/to/mnist.npz")
    model = mlp(hidden=(1000,), activation="leaky_relu", weight_decay=1e-3)
    opt = Momentum(model, lr=0.1)
    hist = train(model, data, epochs=5, batch_size=32, optimizer=opt,
                 schedule=StepLR(opt, step_size=2, gamma=0.1))
    model.save("mlp.npz")

Threads: the batch-32 matrix products are small.  On a 2-core machine that other jobs
share, a 2-thread BLAS made training 5-15x *slower* (its workers spin waiting for a
core another process holds), so start Python with ``OPENBLAS_NUM_THREADS=1`` there;
on an idle machine 2 threads gain ~25% on the MLP.  ``bench/scratch_speed.py`` measures
both.
"""
from .augment import augment_dataset, augment_images, warp_affine
from .conv import Conv2D, MaxPool2D
from .layers import (Flatten, Layer, LeakyReLU, Linear, ReLU, Sigmoid, Tanh,
                     make_activation)
from .losses import SoftmaxCrossEntropy, accuracy, cross_entropy, log_softmax, softmax
from .model import Sequential, lenet, load_model, mlp
from .optim import (SGD, Adam, ExponentialLR, LRSchedule, Momentum, MultiStepLR, Nesterov,
                    Optimizer, StepLR, make_optimizer, make_schedule)
from .search import best_row, build_run, expand_grid, format_table, grid_search, to_dataframe
from .train import History, load_mnist, prepare_images, split_train_val, train, train_step

__all__ = [
    "Layer", "Linear", "Conv2D", "MaxPool2D", "Flatten", "ReLU", "LeakyReLU", "Sigmoid",
    "Tanh", "make_activation", "SoftmaxCrossEntropy", "cross_entropy", "accuracy",
    "log_softmax", "softmax", "Sequential", "mlp", "lenet", "load_model", "Optimizer",
    "SGD", "Momentum", "Nesterov", "Adam", "make_optimizer", "LRSchedule", "StepLR",
    "MultiStepLR", "ExponentialLR", "make_schedule", "train", "train_step", "History",
    "load_mnist", "prepare_images", "split_train_val", "augment_images", "augment_dataset",
    "warp_affine", "grid_search", "build_run", "expand_grid", "best_row", "format_table",
    "to_dataframe",
]
