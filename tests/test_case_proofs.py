"""Preuves : chaque cas montre son problème, le diagnostic le signale, et se tait sur la version saine.

Les seuils sont ceux de l'issue 3 ; les chiffres mesurés sont dans la page « Les données du cours ».
"""

import pytest

import labkit
from labkit.course import case_proofs


@pytest.fixture(autouse=True)
def _seeded():
    labkit.init(seed=0, verbose=False)


def test_overfitting_gap_over_30_points_and_clean_is_healthy():
    broken, clean = case_proofs.prove_overfitting(False), case_proofs.prove_overfitting(True)
    assert broken["gap"] > 0.30 and broken["report"].verdict == "surapprentissage"
    assert clean["gap"] < 0.10 and clean["report"].verdict == "sain"
    assert clean["val_accuracy"] > broken["val_accuracy"] + 0.15


def test_raw_features_stay_at_the_majority_baseline_standardized_do_not():
    broken, clean = case_proofs.prove_unnormalized(False), case_proofs.prove_unnormalized(True)
    assert broken["accuracy"] <= broken["majority_baseline"] + 0.05 and broken["report"].flagged
    assert clean["accuracy"] >= clean["majority_baseline"] + 0.30 and not clean["report"].flagged


def test_minority_recall_far_below_accuracy_and_clean_is_balanced():
    broken, clean = case_proofs.prove_imbalanced(False), case_proofs.prove_imbalanced(True)
    assert broken["accuracy"] - broken["min_recall"] > 0.20 and broken["report"].flagged
    assert clean["accuracy"] - clean["min_recall"] < 0.05 and not clean["report"].flagged


def test_new_camera_drops_accuracy_and_the_detector_sees_it():
    broken, clean = case_proofs.prove_shift(False), case_proofs.prove_shift(True)
    assert broken["val_accuracy"] > 0.85 and broken["drop"] > 0.30 and broken["report"].flagged
    assert abs(clean["drop"]) < 0.05 and not clean["report"].flagged


def test_group_leak_inflates_the_score_and_is_found():
    broken, clean = case_proofs.prove_group_leakage(False), case_proofs.prove_group_leakage(True)
    assert broken["val_accuracy"] - broken["fresh_accuracy"] > 0.40
    assert broken["report"].flagged and broken["report"].values["shared_groups"] > 0 and broken["optimism"].flagged
    assert not clean["report"].flagged and not clean["optimism"].flagged


def test_selection_before_split_inflates_the_score_and_is_caught_on_fresh_data():
    broken, clean = case_proofs.prove_preprocessing_leakage(False), case_proofs.prove_preprocessing_leakage(True)
    assert broken["val_accuracy"] - broken["fresh_accuracy"] > 0.15 and broken["report"].flagged
    assert not clean["report"].flagged
    # Aucun doublon : cette fuite-là ne se voit que sur des données neuves.
    assert not broken["duplicates"].flagged
