"""Ensembles de modèles (notebook 07) : la moyenne des probabilités, mesurée par le protocole du cours."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from labkit import LabkitError  # noqa: E402
from labkit import torch as lkt  # noqa: E402
from labkit.optimize.ensemble import Ensemble  # noqa: E402
from labkit.optimize.measure import TorchRunner, compare  # noqa: E402


def _members(n=3, width=4):
    torch.manual_seed(0)
    return [lkt.make_cnn(width=width).eval() for _ in range(n)]


def test_the_output_is_the_log_of_the_mean_probabilities():
    members = _members()
    x = torch.randn(5, 1, 32, 32)
    with torch.no_grad():
        expected = torch.stack([torch.softmax(m(x), dim=1) for m in members]).mean(0)
        got = Ensemble(members).eval()(x)
    assert torch.allclose(got.exp(), expected, atol=1e-6)
    assert torch.allclose(got.exp().sum(dim=1), torch.ones(5), atol=1e-6)


def test_averaging_logits_is_the_other_convention():
    members = _members(2)
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        got = Ensemble(members, average="logits")(x)
        assert torch.allclose(got, (members[0](x) + members[1](x)) / 2, atol=1e-6)


def test_the_ensemble_costs_the_sum_of_its_members():
    members = _members()
    ensemble = Ensemble(members).eval()
    assert lkt.count_parameters(ensemble) == sum(lkt.count_parameters(m) for m in members)
    assert lkt.count_macs(ensemble, (1, 32, 32)) == sum(lkt.count_macs(m, (1, 32, 32)) for m in members)
    sizes = [TorchRunner(m).size_bytes() for m in members]
    assert TorchRunner(ensemble).size_bytes() > sum(sizes) * 0.9


def test_compare_measures_an_ensemble_like_any_model():
    members = _members(2)
    x = np.random.default_rng(0).normal(size=(8, 1, 32, 32)).astype(np.float32)
    y = np.zeros(8, dtype=np.int64)
    table = compare({"seul": members[0], "ensemble": Ensemble(members).eval()}, x, y, runs=3, warmup=0,
                    batch_sizes=(1,), progress=False).table
    assert table.loc["ensemble", "paramètres"] == 2 * table.loc["seul", "paramètres"]
    assert 0 <= table.loc["ensemble", "précision"] <= 1


@pytest.mark.parametrize(("models", "word"), [
    ([], "au moins deux"),
    ("modèle", "liste"),
    ([torch.nn.Linear(2, 2)], "au moins deux"),
    (torch.nn.Linear(2, 2), "liste"),
    ([torch.nn.Linear(2, 2), "pas un modèle"], "models[1]"),
])
def test_bad_members_are_refused_in_french(models, word):
    with pytest.raises(LabkitError, match=word.replace("[", r"\[").replace("]", r"\]")):
        Ensemble(models)


def test_unknown_average_and_mismatched_outputs_are_refused():
    with pytest.raises(LabkitError, match="average"):
        Ensemble([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)], average="vote")
    with pytest.raises(LabkitError, match="mêmes classes"):
        Ensemble([torch.nn.Linear(2, 2), torch.nn.Linear(2, 3)])(torch.zeros(1, 2))
