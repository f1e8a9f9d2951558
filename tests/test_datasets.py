"""Jeux de données : déterministes, bien formés, erreurs claires."""

import numpy as np
import pytest

from labkit import LabkitError
from labkit.datasets import DEFECT_CLASSES, NEW_CAMERA, Camera, make_overfitting_case, make_pcb_defects


def test_overfitting_case_is_deterministic_and_disjoint():
    a, b = make_overfitting_case(seed=0), make_overfitting_case(seed=0)
    assert a.x_train.tobytes() == b.x_train.tobytes() and a.x_val.tobytes() == b.x_val.tobytes()
    assert a.x_train.shape == (40, 1, 8, 8) and a.x_train.dtype == np.float32
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1
    assert len(a.y_val) == 700 and set(np.unique(a.y_train)) <= set(range(10))
    assert make_overfitting_case(seed=1).x_train.tobytes() != a.x_train.tobytes()


def test_clean_counterpart_has_ten_times_more_training_data_and_the_same_validation():
    broken, clean = make_overfitting_case(seed=0), make_overfitting_case(seed=0, clean=True)
    assert len(clean.y_train) == 10 * len(broken.y_train)
    assert np.array_equal(clean.x_val, broken.x_val)
    assert "saine" in clean.description and "Surapprentissage" in broken.description


def test_a_held_out_test_set_is_disjoint_and_leaves_train_and_validation_unchanged():
    plain, with_test = (
        make_overfitting_case(n_train=100, n_val=500, seed=0),
        make_overfitting_case(n_train=100, n_val=500, n_test=1000, seed=0),
    )
    assert plain.x_test is None and with_test.x_test.shape == (1000, 1, 8, 8) and len(with_test.y_test) == 1000
    assert np.array_equal(plain.x_train, with_test.x_train) and np.array_equal(plain.x_val, with_test.x_val)
    rows = {row.tobytes() for row in with_test.x_test}
    assert not rows & {row.tobytes() for row in with_test.x_train} and not rows & {row.tobytes() for row in with_test.x_val}
    with pytest.raises(LabkitError, match="n_test"):
        make_overfitting_case(n_train=100, n_val=500, n_test=1500)


@pytest.mark.parametrize(
    "kwargs, word",
    [({"n_train": -5}, "n_train"), ({"noise": 2.0}, "noise"), ({"n_train": 1000, "n_val": 900}, "n_train"), ({"seed": "a"}, "seed")],
)
def test_overfitting_case_bad_arguments(kwargs, word):
    with pytest.raises(LabkitError, match=word):
        make_overfitting_case(**kwargs)


def test_pcb_same_seed_same_bytes_and_exact_class_counts():
    a = make_pcb_defects(120, image_size=32, seed=7)
    b = make_pcb_defects(120, image_size=32, seed=7)
    assert a.images.tobytes() == b.images.tobytes() and np.array_equal(a.labels, b.labels)
    assert np.bincount(a.labels).tolist() == [20] * 6
    assert a.images.dtype == np.float32 and 0 <= a.images.min() and a.images.max() <= 1


def test_pcb_views_share_board_ids_and_proportions_are_respected():
    data = make_pcb_defects(90, image_size=32, views_per_board=3, class_proportions={"short": 2, "spur": 1}, seed=0)
    assert len(np.unique(data.board_ids)) == 30
    for board in np.unique(data.board_ids):
        assert len(np.unique(data.labels[data.board_ids == board])) == 1
    assert set(np.unique(data.labels)) == {DEFECT_CLASSES.index("short"), DEFECT_CLASSES.index("spur")}


def test_new_camera_changes_the_image_statistics():
    usual = make_pcb_defects(60, image_size=32, seed=0)
    shifted = make_pcb_defects(60, image_size=32, camera=NEW_CAMERA, seed=0)
    assert abs(usual.images.mean() - shifted.images.mean()) > 0.02


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_images": 0}, "n_images"),
        ({"image_size": 8}, "image_size"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"class_proportions": {"scratch": 1}}, "class_proportions"),
        ({"class_proportions": [1, 2]}, "class_proportions"),
        ({"camera": "nikon"}, "camera"),
    ],
)
def test_pcb_bad_arguments(kwargs, word):
    with pytest.raises(LabkitError, match=word):
        make_pcb_defects(**{"n_images": 12, **kwargs})


def test_camera_validates_its_settings():
    with pytest.raises(LabkitError, match="camera.noise"):
        Camera(noise=-1)
