"""Diagnostic d'historique : chaque verdict sur un cas construit, erreurs claires."""

import pytest

from labkit import LabkitError
from labkit.diagnosis import diagnose_history

OVERFIT = {"loss": [1.0, 0.5, 0.2, 0.05], "accuracy": [0.5, 0.8, 0.95, 1.0],
           "val_loss": [1.0, 0.7, 0.8, 1.1], "val_accuracy": [0.5, 0.6, 0.6, 0.58]}
HEALTHY = {"loss": [1.2, 0.6, 0.4, 0.35], "accuracy": [0.6, 0.85, 0.9, 0.91],
           "val_loss": [1.2, 0.65, 0.45, 0.42], "val_accuracy": [0.6, 0.84, 0.88, 0.89]}
UNDERFIT = {"loss": [2.2, 2.1, 2.0, 1.95], "accuracy": [0.2, 0.3, 0.35, 0.4],
            "val_loss": [2.2, 2.1, 2.0, 1.96], "val_accuracy": [0.2, 0.3, 0.35, 0.39]}
UNSTABLE = {"loss": [1.0, 1.5, 0.9, 1.6, 1.0, 1.8], "accuracy": [0.5] * 6,
            "val_loss": [1.0, 1.4, 1.0, 1.5, 1.1, 1.7], "val_accuracy": [0.5] * 6}


@pytest.mark.parametrize(
    "history, verdict",
    [(OVERFIT, "surapprentissage"), (HEALTHY, "sain"), (UNDERFIT, "sous-apprentissage"), (UNSTABLE, "instable")],
)
def test_verdicts(history, verdict):
    result = diagnose_history(history)
    assert result.verdict == verdict
    assert result.evidence and verdict in str(result)


def test_turning_epoch_and_gap_are_reported():
    result = diagnose_history(OVERFIT)
    assert result.turning_epoch == 1
    assert result.gap == pytest.approx(0.42)


def test_nan_is_unstable_not_a_crash():
    history = dict(HEALTHY, loss=[1.0, float("nan"), 0.5, 0.4])
    assert diagnose_history(history).verdict == "instable"


@pytest.mark.parametrize(
    "history, word",
    [([1, 2, 3], "history"), ({"loss": [1.0]}, "clés"), (dict(HEALTHY, val_loss=[1.0, 0.5]), "longueur"),
     (dict(HEALTHY, loss="abc"), "history")],
)
def test_bad_histories(history, word):
    with pytest.raises(LabkitError, match=word):
        diagnose_history(history)


def test_thresholds_are_validated():
    with pytest.raises(LabkitError, match="max_gap"):
        diagnose_history(HEALTHY, max_gap=2)


def test_rising_loss_with_stable_accuracy_is_overconfidence_not_overfitting():
    confident = {"loss": [1.0, 0.4, 0.2, 0.1], "accuracy": [0.7, 0.9, 0.93, 0.94],
                 "val_loss": [1.0, 0.5, 0.6, 0.7], "val_accuracy": [0.7, 0.88, 0.89, 0.885]}
    result = diagnose_history(confident)
    assert result.verdict == "sain" and not result.flagged
    assert any("trop sûr" in e for e in result.evidence)
    assert diagnose_history(confident, max_accuracy_drop=0.001).verdict == "surapprentissage"
