"""Keras 3 et LiteRT : CNN, conversion depuis PyTorch, entraînement, distillation, export et exécution LiteRT."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
pytest.importorskip("ai_edge_litert")

from labkit import LabkitError  # noqa: E402
from labkit import keras as lkk  # noqa: E402
from labkit import torch as lkt  # noqa: E402
from labkit.datasets import make_pcb_defects  # noqa: E402
from labkit.optimize.litert import export_litert  # noqa: E402
from labkit.optimize.measure import LiteRTRunner, as_runner, environment  # noqa: E402
from labkit.optimize.prune import prune_channels  # noqa: E402


@pytest.fixture(scope="module")
def pcb():
    """Images 64×64 faciles : à 32×32 ou avec moins d'images, aucun des deux cadres n'apprend en quelques époques."""
    train = make_pcb_defects(1000, difficulty=0.0, seed=1)
    val = make_pcb_defects(200, difficulty=0.0, seed=2)
    return train.images[..., None], train.labels, val.images[..., None], val.labels


@pytest.fixture(scope="module")
def torch_cnn(pcb):
    x, y, xv, yv = pcb
    torch.manual_seed(0)
    model = lkt.make_cnn(width=16)  # assez de poids pour que la taille du modèle l'emporte sur l'en-tête du fichier

    def to_nchw(a):
        return a.transpose(0, 3, 1, 2)

    lkt.fit(model, to_nchw(x), y, to_nchw(xv), yv, epochs=2, batch_size=64, lr=3e-3, progress=False)
    return model.eval()


def test_keras_cnn_mirrors_the_pytorch_one():
    model = lkk.make_cnn(width=8, input_shape=(32, 32, 1))
    assert model.output_shape == (None, 6)
    # Un seul sens de « paramètres » : les entraînables, le même nombre dans les deux cadres. Keras compte en plus,
    # dans count_params, la moyenne et la variance mobiles de chaque normalisation (2 × canaux), qui n'en sont pas.
    assert lkk.count_parameters(model) == lkt.count_parameters(lkt.make_cnn(width=8))
    assert model.count_params() == lkk.count_parameters(model) + 2 * (8 + 16 + 16)
    with pytest.raises(LabkitError, match="input_shape"):
        lkk.make_cnn(input_shape=(64, 64))
    with pytest.raises(LabkitError, match="width"):
        lkk.make_cnn(width=0)


def test_from_torch_copies_the_weights_exactly(torch_cnn, pcb):
    x = pcb[0][:16]
    converted = lkk.from_torch(torch_cnn)
    with torch.inference_mode():
        expected = torch_cnn(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    assert np.abs(np.asarray(converted(x, training=False)) - expected).max() < 1e-4
    slim = prune_channels(torch_cnn, 0.5).eval()
    assert lkk.count_parameters(lkk.from_torch(slim)) < lkk.count_parameters(converted)


def test_from_torch_refuses_what_it_cannot_convert(torch_cnn):
    with pytest.raises(LabkitError, match="mode entraînement"):
        lkk.from_torch(lkt.make_cnn(width=4))
    with pytest.raises(LabkitError, match="Conv2d 3×3|3×3"):
        lkk.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5)).eval())
    with pytest.raises(LabkitError, match="GRU"):
        lkk.from_torch(torch.nn.Sequential(torch.nn.GRU(4, 4)).eval())
    with pytest.raises(LabkitError, match="Sequential"):
        lkk.from_torch(torch.nn.Linear(2, 2))


def test_fit_learns_and_refuses_channels_first_images(pcb):
    x, y, xv, yv = pcb
    model = lkk.make_cnn(width=16)
    history = lkk.fit(model, x, y, xv, yv, epochs=8, batch_size=64, lr=3e-3, progress=False)
    # Hasard : 1/6. La validation oscille encore beaucoup à ce stade (0,35 à 0,70 selon le nombre de fils).
    assert history.history["accuracy"][-1] > 0.5 and history.history["val_accuracy"][-1] > 0.3
    assert lkk.evaluate(model, xv, yv)["accuracy"] == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)
    with pytest.raises(LabkitError, match="to_keras_arrays"):
        lkk.fit(model, x.transpose(0, 3, 1, 2), y, xv, yv, epochs=1, progress=False)
    with pytest.raises(LabkitError, match="y_train"):
        lkk.fit(model, x, y[:-1], xv, yv, epochs=1, progress=False)


def test_keras_distillation_trains_the_student_only(torch_cnn, pcb):
    x, y, xv, yv = pcb
    teacher = lkk.from_torch(torch_cnn)
    before = [w.copy() for w in teacher.get_weights()]
    student = lkk.make_cnn(width=2)
    start = [w.copy() for w in student.get_weights()]
    history = lkk.distill(student, teacher, x, y, xv, yv, temperature=4.0, alpha=0.7, epochs=1, batch_size=64, progress=False)
    assert "distillation_loss" in history.history and "student_loss" in history.history
    assert all(np.array_equal(a, b) for a, b in zip(before, teacher.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(start, student.get_weights()))
    with pytest.raises(LabkitError, match="Options inconnues"):
        lkk.distill(student, teacher, x, y, xv, yv, epoch=1)
    with pytest.raises(LabkitError, match="classes"):
        lkk.distill(lkk.make_cnn(width=2, n_classes=3), teacher, x, y, xv, yv)
    with pytest.raises(LabkitError, match="alpha"):
        lkk.distill(student, teacher, x, y, xv, yv, alpha=1.5)


def test_litert_exports_run_with_the_same_protocol(torch_cnn, pcb, tmp_path):
    x, y, xv, yv = pcb
    model = lkk.from_torch(torch_cnn)
    fp32 = export_litert(model, tmp_path / "fp32.tflite")
    int8 = export_litert(model, tmp_path / "int8.tflite", quantize="int8", calibration_data=x[:64])
    half = export_litert(model, tmp_path / "f16.tflite", quantize="float16")
    runner = as_runner(fp32)
    assert isinstance(runner, LiteRTRunner)
    keras_logits = np.asarray(model(xv[:5], training=False))
    # Images du cours (N, C, H, W) ou de Keras (N, H, W, C), lots de tailles différentes.
    assert np.abs(runner(xv[:5]) - keras_logits).max() < 1e-4
    assert np.abs(runner(xv[:5].transpose(0, 3, 1, 2)) - keras_logits).max() < 1e-4
    assert runner(xv[:1]).shape == (1, 6)
    assert runner.size_bytes() > 2.5 * LiteRTRunner(int8).size_bytes()
    assert 1.6 < runner.size_bytes() / LiteRTRunner(half).size_bytes() < 2.2
    agree = (LiteRTRunner(int8)(xv).argmax(1) == runner(xv).argmax(1)).mean()
    assert agree > 0.9
    with pytest.raises(LabkitError, match="attend des exemples"):
        runner(np.zeros((2, 1, 32, 32), np.float32))


def test_litert_export_errors_are_explicit(torch_cnn, pcb, tmp_path):
    x = pcb[0]
    model = lkk.from_torch(torch_cnn)
    with pytest.raises(LabkitError, match="calibration_data"):
        export_litert(model, tmp_path / "a.tflite", quantize="int8")
    with pytest.raises(LabkitError, match="au moins 8"):
        export_litert(model, tmp_path / "a.tflite", quantize="int8", calibration_data=x[:3])
    with pytest.raises(LabkitError, match="forme"):
        export_litert(model, tmp_path / "a.tflite", quantize="int8", calibration_data=x[:16].transpose(0, 3, 1, 2))
    with pytest.raises(LabkitError, match="ne sert qu'à"):
        export_litert(model, tmp_path / "a.tflite", calibration_data=x[:16])
    with pytest.raises(LabkitError, match="quantize"):
        export_litert(model, tmp_path / "a.tflite", quantize="int4")
    with pytest.raises(LabkitError, match=".tflite"):
        export_litert(model, tmp_path / "a.onnx")
    with pytest.raises(LabkitError, match="keras.Model"):
        export_litert(torch_cnn, tmp_path / "a.tflite")
    with pytest.raises(LabkitError, match="introuvable"):
        LiteRTRunner(tmp_path / "absent.tflite")


def test_environment_names_every_engine_without_importing_it():
    info = environment()
    assert {"torch", "onnxruntime", "tensorflow", "keras", "litert"} <= set(info)
