"""Qualité des données (notebook 02) : le cas d'étude abîmé et le contrôle qui retrouve ses défauts."""

import numpy as np
import pytest

from labkit import LabkitError
from labkit.datasets import make_quality_case
from labkit.diagnosis import QUALITY_CHECKS, data_quality_report


@pytest.fixture(scope="module")
def case():
    return make_quality_case(seed=0)


@pytest.fixture(scope="module")
def report(case):
    return data_quality_report(case.x_train, case.y_train, feature_names=case.feature_names,
                               valid_ranges=case.extra["valid_ranges"])


def test_case_is_deterministic_and_its_clean_version_has_no_defect(case):
    again = make_quality_case(seed=0)
    assert np.array_equal(case.x_train, again.x_train, equal_nan=True) and np.array_equal(case.y_train, again.y_train)
    assert not np.array_equal(make_quality_case(seed=1).y_train[:50], case.y_train[:50])
    clean = make_quality_case(seed=0, clean=True)
    assert np.isfinite(clean.x_train).all() and clean.x_train.shape[1] == 8
    assert data_quality_report(clean.x_train, feature_names=clean.feature_names, valid_ranges={
        k: v for k, v in case.extra["valid_ranges"].items() if k in clean.feature_names}).flagged is False
    # La validation du cas abîmé est propre, avec la même variable bloquée que l'entraînement.
    assert np.isfinite(case.x_val).all() and case.x_val.shape[1] == case.x_train.shape[1] == 9


def test_injected_defects_are_where_the_case_says(case):
    x, extra = case.x_train, case.extra
    assert np.isnan(x[extra["missing_rows"]]).any(axis=1).all()
    assert np.isinf(x[extra["infinite_rows"]]).any(axis=1).all()
    thickness = case.feature_names.index("épaisseur de cuivre (mm)")
    assert (x[extra["unit_error_rows"], thickness] > 1).all()
    for row in extra["duplicate_rows"]:
        assert sum(np.array_equal(x[row], other) for other in x[:row]) == 1
    assert len(extra["conflicting_rows"]) == 2 * round(0.005 * 1000)
    assert np.unique(x[:, -1]).tolist() == [24.0]


@pytest.mark.parametrize("check, truth", [
    ("valeurs manquantes", "missing_rows"), ("valeurs infinies", "infinite_rows"), ("hors plage", "unit_error_rows"),
    ("doublons", "duplicate_rows"), ("quasi-doublons", "near_duplicate_rows"),
])
def test_report_finds_exactly_the_injected_rows(case, report, check, truth):
    assert report.values["rows"][check].tolist() == case.extra[truth].tolist()


def test_report_flags_constant_features_and_reviews_suspicious_labels(case, report):
    assert report.flagged and report.values["constant_features"] == ["tension d'alimentation (V)"]
    wrong = np.union1d(case.extra["flipped_rows"], case.extra["conflicting_rows"])
    found = report.values["rows"]["étiquettes suspectes"]
    assert set(case.extra["conflicting_rows"]) <= set(found)
    assert len(np.intersect1d(found, wrong)) >= 0.4 * len(wrong)  # la moitié environ, à relire
    assert len(np.setdiff1d(found, wrong)) <= 5  # peu de fausses alertes
    assert set(report.values["rows"]) == set(QUALITY_CHECKS)
    removed = report.values["rows_to_remove"]
    assert not np.isin(found, removed).all() and np.isin(case.extra["duplicate_rows"], removed).all()
    assert "Qualité des données" in str(report) and "constante" in report._repr_markdown_()


def test_report_without_labels_and_on_clean_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    report = data_quality_report(x)
    assert not report.flagged and report.values["counts"]["doublons"] == 0
    assert "étiquettes suspectes" not in " ".join(report.evidence)
    x[7] = x[3]
    x[10, 2] = np.inf
    report = data_quality_report(x, rng.integers(0, 2, 300))
    assert report.values["rows"]["doublons"].tolist() == [7] and report.values["rows"]["valeurs infinies"].tolist() == [10]


@pytest.mark.parametrize("kwargs, word", [
    ({"x": [1, 2, 3]}, "x"),
    ({"x": np.zeros((4, 2)), "feature_names": ["a"]}, "feature_names"),
    ({"x": np.zeros((4, 2)), "y": [0, 1]}, "y"),
    ({"x": np.zeros((4, 2)), "valid_ranges": {"z": (0, 1)}}, "valid_ranges"),
    ({"x": np.zeros((4, 2)), "valid_ranges": {"x0": (2, 1)}}, "minimum"),
    ({"x": np.zeros((4, 2)), "valid_ranges": {"x0": 3}}, "couple"),
    ({"x": np.zeros((4, 2)), "near_tolerance": -1}, "near_tolerance"),
    ({"x": np.zeros((4, 2)), "label_threshold": 0.9}, "label_threshold"),
])
def test_bad_arguments_are_named(kwargs, word):
    with pytest.raises(LabkitError, match=word):
        data_quality_report(**kwargs)


@pytest.mark.parametrize("kwargs, word", [({"n_samples": 100}, "n_samples"), ({"n_samples": 300, "val_fraction": 0.9}, "n_samples"),
                                          ({"clean": 1}, "clean"), ({"seed": -1}, "seed")])
def test_case_arguments_are_validated(kwargs, word):
    with pytest.raises(LabkitError, match=word):
        make_quality_case(**kwargs)
