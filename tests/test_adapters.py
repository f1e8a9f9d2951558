"""Adaptateurs : NumPy, PyTorch et Keras, chacun importé seulement quand il sert."""

import subprocess
import sys

import numpy as np
import pytest

from labkit import LabkitError, adapters
from labkit.datasets import make_overfitting_case, make_unnormalized_case


def test_adapters_import_no_framework():
    code = "import sys, labkit.adapters, labkit.datasets; print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_torch_loader_batches_and_reproducible_shuffle():
    case = make_overfitting_case(seed=0)
    first = [y.tolist() for _, y in case.to_dataloader(batch_size=16, seed=1)]
    again = [y.tolist() for _, y in case.to_dataloader(batch_size=16, seed=1)]
    assert first == again and sum(map(len, first)) == len(case.y_train)
    x, y = next(iter(case.to_dataloader("val", batch_size=8)))
    assert tuple(x.shape) == (8, 1, 8, 8) and str(x.dtype) == "torch.float32" and str(y.dtype) == "torch.int64"
    assert y.tolist() == case.y_val[:8].tolist()


def test_keras_arrays_are_channels_last_and_tables_unchanged():
    xk, yk = make_overfitting_case(seed=0).to_keras("val")
    assert xk.shape == (700, 8, 8, 1) and yk.dtype == np.int64
    table = make_unnormalized_case(100, seed=0)
    assert table.to_keras()[0].shape == table.x_train.shape


def test_to_numpy_accepts_tensors():
    torch = pytest.importorskip("torch")
    assert adapters.to_numpy(torch.ones(2, 3)).shape == (2, 3)


def test_tf_dataset_or_a_clear_message():
    case = make_overfitting_case(seed=0)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        with pytest.raises(LabkitError, match="TensorFlow"):
            case.to_tf_dataset()
    else:
        x, y = next(iter(case.to_tf_dataset("val", batch_size=4)))
        assert tuple(x.shape) == (4, 8, 8, 1) and y.numpy().tolist() == case.y_val[:4].tolist()


def test_adapters_reject_mismatched_labels():
    with pytest.raises(LabkitError, match="y"):
        adapters.to_keras_arrays(np.zeros((4, 2)), [0, 1])
