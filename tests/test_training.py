"""labkit.training : reprendre un entraînement à l'identique, lot adaptatif, mémoire d'un pas (notebook 04)."""

import numpy as np
import pytest
import torch
from torch import nn

from labkit import training
from labkit.errors import DataError, LabkitError, TrainingError


def _data(n=96, features=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def _run(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=40)
    return model, optimizer, scheduler


def test_a_resumed_training_gives_exactly_the_uninterrupted_losses(tmp_path):
    x, y = _data()
    model, optimizer, scheduler = _run()
    reference = training.train_resumable(model, optimizer, x, y, steps=40, batch_size=16, checkpoint_dir=tmp_path / "a",
                                         every=5, scheduler=scheduler)
    model, optimizer, scheduler = _run()
    interrupted = training.train_resumable(model, optimizer, x, y, steps=40, batch_size=16, checkpoint_dir=tmp_path / "b",
                                           every=5, scheduler=scheduler, stop_after=23)
    assert len(interrupted) == 23
    # Un processus neuf reconstruirait tout : on repart d'objets neufs, autrement initialisés.
    model, optimizer, scheduler = _run(seed=99)
    resumed = training.train_resumable(model, optimizer, x, y, steps=40, batch_size=16, checkpoint_dir=tmp_path / "b",
                                       every=5, scheduler=scheduler)
    assert len(resumed) == 40
    assert resumed["repris"].sum() == 20  # repris au pas 20, le dernier point de reprise avant l'arrêt au pas 23
    np.testing.assert_array_equal(resumed["loss"].to_numpy(), reference["loss"].to_numpy())
    np.testing.assert_array_equal(resumed["lr"].to_numpy(), reference["lr"].to_numpy())
    assert len(list((tmp_path / "b").glob("pas_*.pt"))) == 2  # keep=2 par défaut


def test_without_the_optimizer_state_the_curve_differs(tmp_path):
    """Le test précédent peut échouer : ne recharger que les poids change la suite des pertes."""
    x, y = _data()
    model, optimizer, scheduler = _run()
    reference = training.train_resumable(model, optimizer, x, y, steps=30, batch_size=16, checkpoint_dir=tmp_path / "a",
                                         every=10, scheduler=scheduler)
    model, optimizer, scheduler = _run()
    training.train_resumable(model, optimizer, x, y, steps=30, batch_size=16, checkpoint_dir=tmp_path / "b", every=10,
                             scheduler=scheduler, stop_after=10)
    path = training.latest_checkpoint(tmp_path / "b")
    saved = torch.load(path, weights_only=False)
    saved["optimizer"] = _run()[1].state_dict()  # moments d'Adam perdus
    torch.save(saved, path)
    model, optimizer, scheduler = _run()
    resumed = training.train_resumable(model, optimizer, x, y, steps=30, batch_size=16, checkpoint_dir=tmp_path / "b",
                                       every=10, scheduler=scheduler)
    assert not np.array_equal(resumed["loss"].to_numpy()[10:], reference["loss"].to_numpy()[10:])


def test_epoch_order_depends_only_on_seed_and_epoch():
    assert training.epoch_order(10, 3, seed=1).tolist() == training.epoch_order(10, 3, seed=1).tolist()
    assert training.epoch_order(10, 3, seed=1).tolist() != training.epoch_order(10, 4, seed=1).tolist()
    assert sorted(training.epoch_order(10, 0).tolist()) == list(range(10))


def test_checkpoint_errors_are_french_and_name_the_problem(tmp_path):
    model, optimizer, _ = _run()
    with pytest.raises(DataError, match="introuvable"):
        training.load_checkpoint(tmp_path / "absent.pt", model=model, optimizer=optimizer)
    with pytest.raises(LabkitError, match="`optimizer`"):
        training.save_checkpoint(tmp_path / "x.pt", model=model, optimizer="adam", step=1)
    torch.save({"poids": 1}, tmp_path / "autre.pt")
    with pytest.raises(DataError, match="n'est pas un point de reprise"):
        training.load_checkpoint(tmp_path / "autre.pt", model=model, optimizer=optimizer)


def test_adaptive_batch_halves_on_out_of_memory_and_sees_every_example():
    x, y = _data(n=256)
    model, optimizer, _ = _run()
    with training.memory_budget(None) as budget:
        nn.functional.cross_entropy(model(torch.from_numpy(x[:64])), torch.from_numpy(y[:64]))
    limit = int(budget.peak * 1.2)  # un lot de 64 tient, un lot de 128 non
    log, events = training.train_adaptive_batch(model, optimizer, x, y, batch_size=256, epochs=2, memory_limit=limit)
    assert [e["batch_size"] for e in events] == [256, 128]
    assert set(log["batch_size"]) == {64}
    assert log.groupby("epoch")["batch_size"].sum().tolist() == [256, 256]  # aucun exemple perdu
    assert log["seen"].iloc[-1] == 512


def test_adaptive_batch_gives_up_below_the_minimum_with_a_french_message():
    x, y = _data(n=64)
    model, optimizer, _ = _run()
    with pytest.raises(TrainingError, match="Mémoire épuisée même avec des lots de 8"):
        training.train_adaptive_batch(model, optimizer, x, y, batch_size=64, min_batch_size=8, memory_limit=100)


def test_gradient_checkpointing_keeps_less_memory_and_costs_time():
    table = training.checkpointing_tradeoff((0, 4, 2), depth=8, width=128, batch_size=64, repeats=1)
    kept = table["gardé (Mo)"].tolist()
    # checkpoint_sequential garde l'entrée de chaque segment et tout le dernier segment : moins que sans checkpointing.
    assert kept[0] > max(kept[1], kept[2]) > 0
    with pytest.raises(LabkitError, match="`segments`"):
        training.checkpointing_tradeoff(4)
