"""Outils PyTorch : entraînement déterministe, arrêt anticipé, surapprentissage mesuré."""

import numpy as np
import pytest
import torch

import labkit
from labkit import LabkitError
from labkit import torch as lkt
from labkit.datasets import make_overfitting_case


@pytest.fixture(scope="module")
def case():
    return make_overfitting_case(seed=0)


def _train(case, **kwargs):
    labkit.init(seed=0, framework="torch", threads=1, verbose=False)
    model = lkt.make_mlp()
    history = lkt.fit(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=60, progress=False, **kwargs)
    return model, history


def test_overfitting_case_really_overfits(case):
    model, history = _train(case)
    train = lkt.evaluate(model, case.x_train, case.y_train)["accuracy"]
    val = lkt.evaluate(model, case.x_val, case.y_val)["accuracy"]
    assert train == 1.0 and train - val > 0.20, (train, val)
    assert history.best_epoch < history.epochs - 10


def test_same_seed_same_history(case):
    _, first = _train(case)
    _, second = _train(case)
    assert first.history == second.history


def test_early_stopping_restores_the_best_weights(case):
    model, history = _train(case, patience=5)
    assert history.stopped_early and history.epochs == history.best_epoch + 6
    restored = lkt.evaluate(model, case.x_val, case.y_val)["loss"]
    assert restored == pytest.approx(min(history.history["val_loss"]), rel=1e-5)


def test_augmentations_keep_shapes_and_labels():
    images = torch.arange(2 * 64, dtype=torch.float32).reshape(2, 1, 8, 8)
    g = torch.Generator().manual_seed(0)
    assert lkt.random_shift(images, g).shape == images.shape
    turned = lkt.random_dihedral(images, g)
    assert sorted(turned[0].flatten().tolist()) == sorted(images[0].flatten().tolist())


def test_mix_with_one_hot_targets_is_plain_cross_entropy(case):
    """Des cibles douces égales aux étiquettes one-hot donnent exactement l'entraînement ordinaire."""
    def one_hot(xb, yb, generator):
        return xb, torch.nn.functional.one_hot(yb, 10).float()

    _, plain = _train(case)
    _, mixed = _train(case, mix=one_hot)
    assert mixed.history["loss"] == pytest.approx(plain.history["loss"], rel=1e-5)
    assert mixed.history["val_loss"] == pytest.approx(plain.history["val_loss"], rel=1e-5)


def test_mix_with_mixed_targets_changes_training_and_checks_its_output(case):
    def halves(xb, yb, generator):
        partner = torch.roll(torch.arange(len(yb)), 1)
        targets = 0.5 * torch.nn.functional.one_hot(yb, 10).float() + 0.5 * torch.nn.functional.one_hot(yb[partner], 10).float()
        return 0.5 * xb + 0.5 * xb[partner], targets

    _, plain = _train(case)
    _, mixed = _train(case, mix=halves)
    assert mixed.history["loss"][-1] > plain.history["loss"][-1] + 0.1  # des cibles mélangées ne se prédisent pas à 100 %
    tiny = dict(progress=False, epochs=1)
    with pytest.raises(LabkitError, match="somme à 1"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val, case.y_val,
                mix=lambda xb, yb, g: (xb, torch.zeros(len(yb), 10)), **tiny)
    with pytest.raises(LabkitError, match="le modèle en prédit 10"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val, case.y_val,
                mix=lambda xb, yb, g: (xb, torch.full((len(yb), 3), 1 / 3)), **tiny)
    with pytest.raises(LabkitError, match="un lot de"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val, case.y_val,
                mix=lambda xb, yb, g: (xb[:1], torch.full((len(yb), 10), 0.1)), **tiny)
    with pytest.raises(LabkitError, match="loss_fn"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val, case.y_val, mix=halves,
                loss_fn=lambda logits, x, y, idx: logits.sum(), **tiny)


def test_mlp_size_matches_the_lesson():
    assert lkt.count_parameters(lkt.make_mlp()) == 301_066


@pytest.mark.parametrize(
    "kwargs, word",
    [({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"augment": "oui"}, "augment"), ({"patience": 0}, "patience"),
     ({"mix": "mixup"}, "mix")],
)
def test_fit_rejects_bad_arguments(case, kwargs, word):
    with pytest.raises(LabkitError, match=word):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val, case.y_val, progress=False, **kwargs)


def test_fit_rejects_mismatched_shapes(case):
    with pytest.raises(LabkitError, match="y_train"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train[:-1], case.x_val, case.y_val, progress=False)
    with pytest.raises(LabkitError, match="même forme"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train, case.x_val[:, :, :4], case.y_val, progress=False)
    with pytest.raises(LabkitError, match="entiers"):
        lkt.fit(lkt.make_mlp(hidden=4), case.x_train, case.y_train.astype(np.float32), case.x_val, case.y_val, progress=False)


def test_predict_matches_evaluate_and_keeps_the_training_mode(case):
    model = lkt.make_mlp(hidden=16)
    model.train()
    predicted = lkt.predict(model, case.x_val)
    accuracy = float((predicted == case.y_val).mean())
    assert accuracy == pytest.approx(lkt.evaluate(model, case.x_val, case.y_val)["accuracy"])
    assert model.training
    with pytest.raises(LabkitError, match="`x`"):
        lkt.predict(model, case.x_val[:, 0])
    with pytest.raises(LabkitError, match="`model`"):
        lkt.predict("modèle", case.x_val)


def test_random_camera_changes_pixels_not_shapes_and_is_reproducible():
    images = torch.rand(16, 1, 12, 12)
    before = images.clone()
    first = lkt.random_camera(images, torch.Generator().manual_seed(0))
    again = lkt.random_camera(images, torch.Generator().manual_seed(0))
    assert first.shape == images.shape and torch.equal(first, again)
    assert not torch.allclose(first, images)
    assert torch.equal(images, before)  # l'entrée n'est pas modifiée sur place
    still = lkt.random_camera(images, torch.Generator().manual_seed(0), brightness=0, contrast=0, blur=0, noise=0)
    assert torch.allclose(still, images, atol=1e-6)
    with pytest.raises(LabkitError, match="N, C, H, W"):
        lkt.random_camera(torch.rand(12, 12))


def test_count_macs_matches_the_convolution_formula_including_groups():
    from torch import nn

    standard = nn.Conv2d(16, 32, 3, padding=1, bias=False)
    depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
    strided = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
    assert lkt.count_macs(standard, (16, 20, 20)) == 16 * 9 * 32 * 20 * 20
    assert lkt.count_macs(depthwise, (16, 20, 20)) == 9 * 16 * 20 * 20
    assert lkt.count_macs(strided, (16, 20, 20)) == 16 * 9 * 32 * 10 * 10
    assert lkt.count_macs(nn.Sequential(nn.Flatten(), nn.Linear(12, 5)), (3, 2, 2)) == 60


def test_count_macs_keeps_the_training_mode_and_rejects_bad_shapes():
    model = lkt.make_cnn(width=4)
    model.train()
    macs = lkt.count_macs(model, (1, 64, 64))
    assert model.training
    assert macs == lkt.count_macs(model, [1, 64, 64]) > 0
    for bad in (None, (0, 64, 64), "abc"):
        with pytest.raises(LabkitError, match="input_shape"):
            lkt.count_macs(model, bad)
    with pytest.raises(LabkitError, match="refuse une image de forme"):
        lkt.count_macs(model, (3, 64, 64))  # trois canaux pour un modèle qui en attend un


def test_fit_cached_gives_the_same_model_history_and_random_state(case, tmp_path):
    results = []
    for _ in range(2):
        labkit.init(seed=0, framework="torch", threads=1, verbose=False)
        model = lkt.make_mlp(hidden=16)
        history = lkt.fit_cached(model, case.x_train, case.y_train, case.x_val, case.y_val, epochs=3, progress=False,
                                 cache_dir=tmp_path)
        results.append((model.state_dict(), history.history, torch.rand(3)))
    assert len(list((tmp_path / "entrainements").glob("*.pt"))) == 1
    (first_state, first_history, first_draw), (second_state, second_history, second_draw) = results
    assert all(torch.equal(first_state[k], second_state[k]) for k in first_state)
    assert first_history == second_history and torch.equal(first_draw, second_draw)
    labkit.init(seed=1, framework="torch", threads=1, verbose=False)  # autre graine : autre entraînement
    lkt.fit_cached(lkt.make_mlp(hidden=16), case.x_train, case.y_train, case.x_val, case.y_val, epochs=3, progress=False,
                   cache_dir=tmp_path)
    assert len(list((tmp_path / "entrainements").glob("*.pt"))) == 2
