"""La classe rare (notebook 02) : des cartes neuves pour juger un seuil, et le vocabulaire du rapport par classe."""

import numpy as np
import pytest

from labkit import LabkitError
from labkit.datasets import make_imbalanced_case
from labkit.diagnosis import class_balance_report


def test_fresh_cards_leave_training_and_validation_unchanged():
    plain = make_imbalanced_case(0.05, n_samples=2000, seed=3)
    with_test = make_imbalanced_case(0.05, n_samples=2000, n_test=1000, seed=3)
    assert plain.x_test is None and plain.splits == ("train", "val")
    assert np.array_equal(plain.x_train, with_test.x_train) and np.array_equal(plain.y_val, with_test.y_val)
    assert with_test.x_test.shape == (1000, 8) and with_test.x_test.dtype == np.float32
    assert int(with_test.y_test.sum()) == 50 and with_test.params["n_test"] == 1000
    # Réduites avec les statistiques de l'entraînement : centrées à peu près, sans l'être exactement.
    assert np.abs(with_test.x_test.mean(axis=0)).max() < 0.2
    with pytest.raises(LabkitError, match="n_test"):
        make_imbalanced_case(n_test=-1)


def test_per_class_precision_is_named_positive_predictive_value():
    report = class_balance_report([0] * 90 + [1] * 10, [0] * 88 + [1] * 2 + [1] * 4 + [0] * 6, class_names=["conforme", "défectueuse"])
    assert "précision" not in report.table.columns
    assert report.table.loc["défectueuse", "valeur prédictive positive"] == pytest.approx(4 / 6)
    assert report.table.loc["défectueuse", "rappel"] == pytest.approx(0.4)
