"""Boucle instrumentée et calibration du DataLoader (notebook 04)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from labkit import LabkitError  # noqa: E402
from labkit import torch as lkt  # noqa: E402
from labkit.datasets import make_overfitting_case  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    case = make_overfitting_case(n_train=100, n_val=100, clean=True, seed=0)
    return TensorDataset(torch.from_numpy(case.x_train), torch.from_numpy(case.y_train))


def _setup(lr=0.05, seed=0):
    torch.manual_seed(seed)
    model = lkt.make_mlp(in_features=64, hidden=64, depth=2)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def _loader(dataset, batch_size=50):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))


def test_train_steps_records_every_step_and_learns(digits):
    model, optimizer = _setup()
    steps = lkt.train_steps(model, _loader(digits), optimizer, epochs=3, progress=False)
    assert len(steps) == 3 * 20 and list(steps["epoch"].unique()) == [0, 1, 2]
    assert {"loss", "accuracy", "grad_norm", "lr", "data_s", "compute_s"} <= set(steps.columns)
    assert steps["loss"].tail(10).mean() < steps["loss"].head(10).mean() - 0.5
    assert (steps["data_s"] >= 0).all() and (steps["compute_s"] > 0).all()
    assert not model.training  # rendu en mode évaluation


def test_grad_norm_is_measured_before_clipping_and_clipping_bounds_the_update(digits):
    model, optimizer = _setup()
    first = [p.detach().clone() for p in model.parameters()]
    steps = lkt.train_steps(model, _loader(digits), optimizer, max_steps=1, clip=1e-3, progress=False)
    assert steps["grad_norm"].iloc[0] > 1e-3  # la norme rangée est celle d'avant l'écrêtage
    moved = torch.sqrt(sum(((p.detach() - q) ** 2).sum() for p, q in zip(model.parameters(), first)))
    assert float(moved) <= 0.05 * 1e-3 * 1.01  # pas de SGD = lr × gradient écrêté


def test_a_clipping_function_replaces_the_builtin_one(digits):
    calls = []

    def clip(parameters):
        calls.append(len(parameters))
        return 42.0

    model, optimizer = _setup()
    steps = lkt.train_steps(model, _loader(digits), optimizer, max_steps=3, clip=clip, progress=False)
    assert calls == [len(list(model.parameters()))] * 3 and (steps["grad_norm"] == 42.0).all()


def test_scheduler_is_stepped_every_batch_and_lr_is_logged(digits):
    model, optimizer = _setup(lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=40)
    steps = lkt.train_steps(model, _loader(digits), optimizer, epochs=2, scheduler=scheduler, progress=False)
    lr = steps["lr"].to_numpy()
    assert np.argmax(lr) in range(8, 14) and lr[0] < 0.01 and lr[-1] < 1e-3


def test_divergence_stops_at_the_first_non_finite_loss(digits):
    model, optimizer = _setup(lr=1e6)
    steps = lkt.train_steps(model, _loader(digits), optimizer, epochs=5, progress=False)
    assert len(steps) < 100 and not np.isfinite(steps["loss"].iloc[-1])


def test_bfloat16_autocast_runs_on_cpu(digits):
    model, optimizer = _setup()
    steps = lkt.train_steps(model, _loader(digits), optimizer, max_steps=4, autocast_dtype=torch.bfloat16, progress=False)
    assert np.isfinite(steps["loss"]).all()


def test_float16_autocast_uses_a_grad_scaler_and_stays_finite(digits):
    model, optimizer = _setup()
    steps = lkt.train_steps(model, _loader(digits), optimizer, max_steps=4, autocast_dtype=torch.float16, progress=False)
    assert np.isfinite(steps["loss"]).all() and np.isfinite(steps["grad_norm"]).all()


def test_train_steps_rejects_bad_arguments_in_french(digits):
    model, optimizer = _setup()
    with pytest.raises(LabkitError, match="optimizer"):
        lkt.train_steps(model, _loader(digits), "adam")
    with pytest.raises(LabkitError, match="autocast_dtype"):
        lkt.train_steps(model, _loader(digits), optimizer, autocast_dtype=torch.float64)
    with pytest.raises(LabkitError, match="clip"):
        lkt.train_steps(model, _loader(digits), optimizer, clip=-1.0)
    with pytest.raises(LabkitError, match="loader"):
        lkt.train_steps(model, (batch for batch in _loader(digits)), optimizer)


def test_calibrate_loader_tries_each_setting_and_returns_loader_options(digits):
    options, table = lkt.calibrate_loader(digits, batch_size=20, workers=[0, 1], prefetch_factors=(2,), n_batches=5,
                                          progress=False)
    assert list(table["num_workers"]) == [0, 1]
    assert (table["images/s"] > 0).all() and (table["démarrage (s)"] > 0).all()
    loader = DataLoader(digits, **options)
    xb, yb = next(iter(loader))
    assert len(xb) == 20 and options["num_workers"] in (0, 1)
    with pytest.raises(LabkitError, match="trop petit"):
        lkt.calibrate_loader(digits, batch_size=500, n_batches=5, progress=False)
