"""Cas d'étude : déterministes, bien formés, version saine comparable, erreurs claires."""

import numpy as np
import pytest

from labkit import LabkitError
from labkit.datasets import (
    make_imbalanced_case,
    make_leakage_case,
    make_overfitting_case,
    make_shift_case,
    make_unnormalized_case,
)

SMALL = {
    "overfitting": lambda **kw: make_overfitting_case(**kw),
    "unnormalized": lambda **kw: make_unnormalized_case(300, **kw),
    "imbalanced": lambda **kw: make_imbalanced_case(0.1, n_samples=400, **kw),
    "shift": lambda **kw: make_shift_case(60, 30, 30, image_size=32, **kw),
    "groups": lambda **kw: make_leakage_case("groups", n_boards=20, views_per_board=3, **kw),
    "preprocessing": lambda **kw: make_leakage_case("preprocessing", n_samples=60, n_features=200, **kw),
}


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("clean", [False, True])
def test_same_seed_same_bytes_and_well_formed(name, clean):
    a, b = SMALL[name](seed=3, clean=clean), SMALL[name](seed=3, clean=clean)
    for split in a.splits:
        (xa, ya), (xb, yb) = a.arrays(split), b.arrays(split)
        assert xa.tobytes() == xb.tobytes() and ya.tobytes() == yb.tobytes()
        assert xa.dtype == np.float32 and ya.dtype == np.int64 and len(xa) == len(ya)
        assert set(np.unique(ya)) <= set(range(len(a.class_names)))
    assert a.clean is clean and a.description and a.problem in repr(a)
    assert SMALL[name](seed=4, clean=clean).x_train.tobytes() != a.x_train.tobytes()


def test_unnormalized_clean_is_standardized_with_training_statistics_only():
    raw, clean = make_unnormalized_case(400, seed=0), make_unnormalized_case(400, seed=0, clean=True)
    assert np.allclose(clean.x_train.mean(0), 0, atol=1e-4) and np.allclose(clean.x_train.std(0), 1, atol=1e-3)
    expected = (raw.x_val - raw.x_train.mean(0)) / raw.x_train.std(0)
    assert np.allclose(clean.x_val, expected, atol=1e-3)
    assert raw.x_train.std(0).max() / raw.x_train.std(0).min() > 1e5


@pytest.mark.parametrize("dataset, n_features", [("wine", 13), ("breast_cancer", 30)])
def test_unnormalized_case_offers_scikit_learn_sets_raw(dataset, n_features):
    case = make_unnormalized_case(dataset=dataset, seed=0)
    assert case.x_train.shape[1] == n_features and len(case.feature_names) == n_features


def test_imbalanced_ratio_is_exact_and_split_is_stratified():
    case = make_imbalanced_case(0.05, n_samples=4000, seed=0)
    assert case.y_train.mean() == pytest.approx(0.05, abs=0.001) and case.y_val.mean() == pytest.approx(0.05, abs=0.001)
    assert make_imbalanced_case(0.05, n_samples=4000, seed=0, clean=True).y_train.mean() == pytest.approx(0.5)


def test_shift_case_clean_and_broken_show_the_same_boards_through_different_cameras():
    broken, clean = make_shift_case(60, 30, 30, image_size=32, seed=0), make_shift_case(60, 30, 30, image_size=32, seed=0, clean=True)
    assert np.array_equal(broken.y_test, clean.y_test) and np.array_equal(broken.x_train, clean.x_train)
    assert not np.array_equal(broken.x_test, clean.x_test)
    assert not set(broken.groups_test) & set(broken.groups_train)


def test_group_leakage_case_clean_split_separates_boards():
    leaky = make_leakage_case("groups", n_boards=40, views_per_board=3, seed=0)
    clean = make_leakage_case("groups", n_boards=40, views_per_board=3, seed=0, clean=True)
    assert len(np.intersect1d(leaky.groups_train, leaky.groups_val)) > 10
    assert len(np.intersect1d(clean.groups_train, clean.groups_val)) == 0


def test_preprocessing_leakage_case_keeps_raw_data_and_the_fitted_selector():
    case = make_leakage_case("preprocessing", n_samples=60, n_features=200, n_selected=5, seed=0)
    assert case.x_train.shape == (30, 5) and case.extra["x_train_raw"].shape == (30, 200)
    assert np.allclose(case.extra["selector"].transform(case.extra["x_val_raw"]), case.x_val)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: make_imbalanced_case(0.0), "defect_ratio"),
        (lambda: make_imbalanced_case(1.5), "defect_ratio"),
        (lambda: make_imbalanced_case(0.01, n_samples=100), "n_samples"),
        (lambda: make_unnormalized_case(-3), "n_samples"),
        (lambda: make_unnormalized_case(dataset="iris"), "dataset"),
        (lambda: make_shift_case(camera="nikon"), "camera"),
        (lambda: make_shift_case(n_train=-1), "n_train"),
        (lambda: make_leakage_case("time"), "kind"),
        (lambda: make_leakage_case("groups", views_per_board=1), "views_per_board"),
        (lambda: make_leakage_case("preprocessing", n_features=50, n_selected=80), "n_selected"),
        (lambda: make_overfitting_case(noise="fort"), "noise"),
        (lambda: make_overfitting_case().arrays("test"), "split"),
    ],
)
def test_bad_arguments_name_the_argument(call, word):
    with pytest.raises(LabkitError, match=word):
        call()
