"""Diagnostics de données : chaque rapport détecte son problème, se tait sans lui et valide ses arguments."""

import numpy as np
import pytest

from labkit import LabkitError
from labkit.datasets import NEW_CAMERA, make_pcb_defects
from labkit.diagnosis import class_balance_report, detect_shift, feature_scale_report, find_leakage, validation_optimism

RNG = np.random.default_rng(0)


def test_feature_scale_report_flags_mixed_units_and_accepts_standardized_data():
    raw = np.c_[RNG.normal(1e5, 1e3, 300), RNG.normal(0.02, 0.01, 300), RNG.normal(5, 1, 300)]
    report = feature_scale_report(raw, ["pression", "vibrations", "autre"])
    assert report.flagged and report.values["worst_feature"] == "pression"
    assert report.values["std_ratio"] > 1e4
    standardized = (raw - raw.mean(0)) / raw.std(0)
    assert not feature_scale_report(standardized).flagged
    assert "pression" in report._repr_markdown_() and "⚠️" in str(report)


def test_feature_scale_report_names_constant_columns():
    report = feature_scale_report(np.c_[RNG.normal(size=50), np.ones(50)])
    assert report.values["constant"] == 1 and any("constantes" in e for e in report.evidence)


def test_class_balance_report_metrics_match_a_hand_computation():
    y_true = [0] * 90 + [1] * 10
    y_pred = [0] * 90 + [1] * 4 + [0] * 6
    report = class_balance_report(y_true, y_pred, class_names=["conforme", "défectueuse"])
    v = report.values
    assert v["accuracy"] == pytest.approx(0.94) and v["min_recall"] == pytest.approx(0.4)
    assert v["balanced_accuracy"] == pytest.approx(0.7) and v["majority_baseline"] == pytest.approx(0.9)
    assert report.flagged and v["worst_class"] == "défectueuse"
    balanced = class_balance_report([0] * 50 + [1] * 50, [0] * 48 + [1] * 2 + [1] * 47 + [0] * 3)
    assert not balanced.flagged


def test_shift_detector_sees_the_new_camera_but_not_a_new_batch_from_the_same_camera():
    reference = make_pcb_defects(300, image_size=32, seed=0).images
    same = make_pcb_defects(300, image_size=32, seed=1).images
    shifted = make_pcb_defects(300, image_size=32, camera=NEW_CAMERA, seed=1).images
    on_shift, on_same = detect_shift(reference, shifted), detect_shift(reference, same)
    assert on_shift.flagged and on_shift.values["auc"] > 0.95
    assert not on_same.flagged and on_same.values["auc"] < 0.65


def test_shift_detector_on_tables_names_the_moved_feature():
    a = RNG.normal(size=(400, 3))
    b = RNG.normal(size=(400, 3))
    b[:, 2] += 1.0
    report = detect_shift(a, b, feature_names=["t", "p", "h"])
    assert report.flagged and report.values["most_shifted"] == "h"


def test_find_leakage_counts_exact_duplicates_and_shared_groups():
    x = RNG.normal(size=(60, 4))
    report = find_leakage(x[:40], x[30:], groups_train=np.arange(40), groups_test=np.arange(30, 60))
    assert report.flagged and report.values["n_exact"] == 10 and report.values["shared_groups"] == 10
    clean = find_leakage(x[:30], x[30:], groups_train=np.arange(30), groups_test=np.arange(30, 60))
    assert not clean.flagged and clean.values["n_near"] == 0


def test_validation_optimism():
    assert validation_optimism(0.9, 0.6).flagged
    assert not validation_optimism(0.8, 0.79).flagged


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: feature_scale_report(np.ones(5)), "x"),
        (lambda: feature_scale_report(np.ones((5, 2)), ["a"]), "feature_names"),
        (lambda: class_balance_report([0, 1, 2], [0, 1]), "y_pred"),
        (lambda: class_balance_report([0.5, 1.0]), "y_true"),
        (lambda: class_balance_report(["a", "b"]), "y_true"),
        (lambda: detect_shift(np.ones((20, 3)), np.ones((20, 4))), "x_reference"),
        (lambda: detect_shift(np.ones((20, 3)), np.ones((20, 3)), max_auc=2), "max_auc"),
        (lambda: detect_shift(np.ones((20, 8, 8)), np.ones((20, 8, 8)), feature_names=["a"]), "feature_names"),
        (lambda: find_leakage(np.ones((5, 2)), np.ones((5, 2)), groups_train=[1] * 5), "groups_test"),
        (lambda: validation_optimism("0.9", 0.5), "validation_score"),
    ],
)
def test_bad_arguments_name_the_argument(call, word):
    with pytest.raises(LabkitError, match=word):
        call()
