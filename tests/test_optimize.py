"""Boîte à outils d'optimisation : quantificateur, mesure, export, int8, élagage, distillation."""

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from labkit import LabkitError  # noqa: E402
from labkit import torch as lkt  # noqa: E402
from labkit.optimize.distill import distill, distillation_loss  # noqa: E402
from labkit.optimize.export import export_onnx  # noqa: E402
from labkit.optimize.measure import FunctionRunner, OnnxRunner, TorchRunner, accuracy, as_runner, compare, measure_latency  # noqa: E402
from labkit.optimize.prune import global_magnitude_prune, prune_channels, remove_masks, sparsity  # noqa: E402
from labkit.optimize.quantize import dequantize, quantization_error, quantize_onnx_static, quantize_tensor  # noqa: E402

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- quantificateur écrit à la main

@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("symmetric", [False, True])
def test_round_trip_error_is_at_most_half_a_step(bits, symmetric):
    x = RNG.normal(size=(16, 9)).astype(np.float32)
    q = quantize_tensor(x, bits, symmetric=symmetric)
    assert np.abs(dequantize(q) - x).max() <= q.scale.max() / 2 + 1e-6
    levels = 2**bits if not symmetric else 2**bits - 1
    assert len(np.unique(q.values)) <= levels
    if symmetric:
        assert np.all(q.zero_point == 0)


def test_zero_is_exact_and_per_channel_beats_per_tensor_on_uneven_channels():
    w = np.stack([RNG.normal(0, s, 50) for s in (0.01, 0.1, 1.0, 10.0)]).astype(np.float32)
    w[0, 0] = 0.0
    assert dequantize(quantize_tensor(w, 8))[0, 0] == 0.0
    assert quantization_error(w, 4, axis=0) < quantization_error(w, 4)
    # Le petit canal : écrasé à zéro par une échelle commune, conservé par une échelle par canal.
    small = np.abs(w[0]).mean()
    per_tensor = np.abs(dequantize(quantize_tensor(w, 4))[0] - w[0]).mean() / small
    per_channel = np.abs(dequantize(quantize_tensor(w, 4, axis=0))[0] - w[0]).mean() / small
    assert per_tensor > 0.9 and per_channel < 0.2
    assert quantization_error(w, 8) < quantization_error(w, 4) < quantization_error(w, 2)


@pytest.mark.parametrize("kwargs, word", [({"bits": 1}, "bits"), ({"bits": 8.0}, "bits"), ({"axis": 3}, "axis")])
def test_quantizer_bad_arguments(kwargs, word):
    with pytest.raises(LabkitError, match=word):
        quantize_tensor(np.ones((2, 2)), **kwargs)


# ---------------------------------------------------------------- mesure

def test_latency_protocol_and_comparison_table():
    slow = FunctionRunner(lambda x: np.zeros((len(x), 6)), name="lent")
    stats = measure_latency(slow, np.zeros((4, 3), np.float32), runs=5, warmup=1)
    assert stats["batch"] == 4 and stats["threads"] == 1 and stats["p90_ms"] >= stats["median_ms"] >= 0
    x, y = RNG.normal(size=(20, 3)).astype(np.float32), np.zeros(20, dtype=int)
    table = compare({"a": slow, "b": slow}, x, y, runs=3, warmup=0, batch_sizes=(1, 8), reference="a", progress=False).table
    assert list(table.index) == ["a", "b"] and table.loc["a", "précision"] == 1.0
    assert "latence b8 (ms)" in table.columns and "× plus rapide b1" in table.columns


def test_a_measurement_on_one_thread_gives_the_training_threads_back():
    model = lkt.make_cnn(width=2).eval()
    x = np.zeros((4, 1, 32, 32), np.float32)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert measure_latency(model, x[:1], runs=3, warmup=0, threads=1)["threads"] == 1
        assert torch.get_num_threads() == 2
        compare({"cnn": model}, x, np.zeros(4, dtype=int), runs=3, warmup=0, batch_sizes=(1,), progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_measurement_refuses_a_model_in_training_mode_and_unknown_objects():
    with pytest.raises(LabkitError, match="eval"):
        TorchRunner(lkt.make_cnn(width=2))
    with pytest.raises(LabkitError, match="model"):
        as_runner("modèle.h5")
    with pytest.raises(LabkitError, match="reference"):
        compare({"a": FunctionRunner(lambda x: x)}, np.ones((4, 2)), [0, 1, 0, 1], reference="b")


# ---------------------------------------------------------------- export et int8

@pytest.fixture(scope="module")
def trained_cnn():
    from labkit.datasets import make_pcb_defects

    torch.manual_seed(0)
    torch.set_num_threads(1)
    train, val = make_pcb_defects(1000, difficulty=0.2, seed=1), make_pcb_defects(300, difficulty=0.2, seed=2)
    model = lkt.make_cnn(width=16)
    lkt.fit(model, train.images[:, None], train.labels, val.images[:, None], val.labels, epochs=8, batch_size=64, lr=3e-3, progress=False)
    return model.eval(), train.images[:, None], val.images[:, None], val.labels


def test_onnx_export_matches_pytorch_and_int8_is_smaller_and_as_accurate(trained_cnn, tmp_path):
    model, x_train, x_val, y_val = trained_cnn
    fp32 = export_onnx(model, torch.from_numpy(x_val[:4]), tmp_path / "m.onnx")
    assert np.abs(TorchRunner(model)(x_val[:16]) - OnnxRunner(fp32)(x_val[:16])).max() < 1e-4
    # Sans les piles d'appels de l'exportateur : la taille mesurée est celle du modèle, pas du dossier d'installation.
    import onnx

    assert not any(node.metadata_props or node.doc_string for node in onnx.load(str(fp32)).graph.node)
    int8 = quantize_onnx_static(fp32, x_train[:128], tmp_path / "m_int8.onnx")
    # Sur un si petit modèle, le graphe ONNX pèse autant que les poids : le gain reste net, sans atteindre 4×.
    assert int8.stat().st_size < fp32.stat().st_size / 1.8
    reference = accuracy(TorchRunner(model), x_val, y_val)
    assert reference > 0.5, "le modèle de test doit avoir appris quelque chose"
    assert abs(accuracy(OnnxRunner(int8), x_val, y_val) - reference) <= 0.03


def test_export_and_calibration_errors(trained_cnn, tmp_path):
    model, x_train, *_ = trained_cnn
    with pytest.raises(LabkitError, match="example_input"):
        export_onnx(model, torch.zeros(1, 1, 64, 64), tmp_path / "x.onnx")
    model.train()
    with pytest.raises(LabkitError, match="eval"):
        export_onnx(model, torch.zeros(2, 1, 64, 64), tmp_path / "x.onnx")
    model.eval()
    path = export_onnx(model, torch.zeros(2, 1, 64, 64), tmp_path / "ok.onnx")
    with pytest.raises(LabkitError, match="calibration_data"):
        quantize_onnx_static(path, x_train[:0], tmp_path / "q.onnx")
    with pytest.raises(LabkitError, match="onnx_path"):
        quantize_onnx_static(tmp_path / "absent.onnx", x_train[:32], tmp_path / "q.onnx")


# ---------------------------------------------------------------- élagage

def test_global_pruning_reaches_the_sparsity_and_masks_survive_fine_tuning(trained_cnn):
    model, x_train, x_val, y_val = trained_cnn
    pruned = lkt.make_cnn(width=16)
    pruned.load_state_dict(model.state_dict())
    global_magnitude_prune(pruned, 0.8)
    lkt.fit(pruned, x_train[:128], np.zeros(128, dtype=int), x_val[:32], y_val[:32] * 0, epochs=1, progress=False)
    remove_masks(pruned)
    assert sparsity(pruned) == pytest.approx(0.8, abs=0.01)
    assert not any(name.endswith("_mask") for name, _ in pruned.named_buffers())


def test_channel_pruning_removes_channels_and_keeps_the_interface(trained_cnn):
    model, _, x_val, _ = trained_cnn
    slim = prune_channels(model, 0.5)
    convs = [m for m in slim if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 16]
    assert lkt.count_parameters(slim) < lkt.count_parameters(model) / 3
    assert slim(torch.from_numpy(x_val[:3])).shape == (3, 6)
    assert lkt.count_parameters(model) > lkt.count_parameters(slim)  # l'original n'est pas modifié
    with pytest.raises(LabkitError, match="LSTM"):
        prune_channels(torch.nn.Sequential(torch.nn.LSTM(3, 3)), 0.5)


def test_channel_pruning_rounds_the_kept_channels_to_a_multiple():
    model = lkt.make_cnn(width=24)  # 24, 48, 48 canaux
    widths = lambda m: [c.out_channels for c in m if isinstance(c, torch.nn.Conv2d)]  # noqa: E731
    assert widths(prune_channels(model, 0.75)) == [18, 36, 36]
    assert widths(prune_channels(model, 0.75, multiple_of=8)) == [16, 32, 32]
    assert widths(prune_channels(model, 0.05, multiple_of=8)) == [8, 8, 8]  # au moins un multiple
    assert widths(prune_channels(model, 0.99, multiple_of=32)) == [24, 32, 32]  # jamais plus que tous
    slim = prune_channels(model, 0.75, multiple_of=8)
    assert slim(torch.zeros(2, 1, 64, 64)).shape == (2, 6)
    for bad in (0, 2.5, "8"):
        with pytest.raises(LabkitError, match="multiple_of"):
            prune_channels(model, 0.5, multiple_of=bad)


@pytest.mark.parametrize("value", [1.0, -0.1, 2])
def test_sparsity_outside_the_interval_is_refused(value):
    with pytest.raises(LabkitError, match="sparsity"):
        global_magnitude_prune(lkt.make_cnn(width=2), value)


# ---------------------------------------------------------------- distillation

def test_distillation_loss_limits():
    logits = torch.tensor([[3.0, 0.5, -1.0], [0.0, 2.0, 1.0]])
    labels = torch.tensor([0, 1])
    assert float(distillation_loss(logits, logits, labels, alpha=1.0)) == pytest.approx(0.0, abs=1e-6)
    ce = torch.nn.functional.cross_entropy(logits, labels)
    assert float(distillation_loss(logits, logits * 0, labels, alpha=0.0)) == pytest.approx(float(ce))
    with pytest.raises(LabkitError, match="temperature"):
        distillation_loss(logits, logits, labels, temperature=0)
    with pytest.raises(LabkitError, match="classes"):
        distillation_loss(logits, logits[:, :2], labels)


def test_distill_trains_the_student_and_leaves_the_teacher_untouched(trained_cnn):
    teacher, x_train, x_val, y_val = trained_cnn
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = lkt.make_cnn(width=2)
    history = distill(student, teacher, x_train[:200], np.zeros(200, dtype=int), x_val[:50], y_val[:50], epochs=1, progress=False)
    assert history.epochs == 1
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())


def test_runners_name_the_expected_input_shape(trained_cnn, tmp_path):
    model, _, x_val, _ = trained_cnn
    onnx_path = export_onnx(model, torch.from_numpy(x_val[:4]), tmp_path / "shape.onnx")
    with pytest.raises(LabkitError, match=r"attend des exemples de forme \(1, 64, 64\)"):
        OnnxRunner(onnx_path)(np.zeros((2, 3, 64, 64), np.float32))
    with pytest.raises(LabkitError, match="refuse des entrées de forme"):
        TorchRunner(model)(np.zeros((2, 3, 64, 64), np.float32))


def test_sparsity_sweep_measures_each_rate_on_a_copy(trained_cnn):
    from labkit.optimize.prune import sparsity_sweep

    model, x_train, x_val, y_val = trained_cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    score = lambda m: lkt.evaluate(m, x_val, y_val)["accuracy"]  # noqa: E731
    tuned = []
    table = sparsity_sweep(model, [0.0, 0.5, 0.95], score, fine_tune=lambda m: tuned.append(m), progress=False)
    assert table["zéros obtenus"].tolist() == pytest.approx([0.0, 0.5, 0.95], abs=1e-3)
    assert table.loc[0.0, "précision"] == pytest.approx(score(model))
    assert table.loc[0.95, "précision"] < table.loc[0.0, "précision"]  # à 95 % de zéros, le modèle casse
    assert len(tuned) == 3 and "précision après réentraînement" in table
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(LabkitError, match="sparsities"):
        sparsity_sweep(model, [0.5, 1.0], score)
    with pytest.raises(LabkitError, match="vide"):
        sparsity_sweep(model, [], score)
    with pytest.raises(LabkitError, match="evaluate"):
        sparsity_sweep(model, [0.5], "précision")


# ---------------------------------------------------------------- quantification simulée et QAT

def test_folding_batch_norm_keeps_the_outputs(trained_cnn):
    from labkit.optimize.qat import fold_batch_norm

    model, _, x_val, _ = trained_cnn
    folded = fold_batch_norm(model)
    x = torch.from_numpy(x_val[:32])
    with torch.inference_mode():
        assert torch.allclose(model(x), folded(x), atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # l'original est intact
    with pytest.raises(LabkitError, match="mode entraînement"):
        fold_batch_norm(lkt.make_cnn(width=2))


@pytest.mark.parametrize("bits", [3, 8])
def test_qat_model_puts_weights_on_the_grid_and_converts_back(trained_cnn, bits):
    from labkit.optimize.qat import QATConv2d, QATLinear, calibrate, convert_qat, prepare_qat

    model, x_train, x_val, _ = trained_cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prepared = prepare_qat(model, bits=bits)
    calibrate(prepared, x_train[:64])
    plain = convert_qat(prepared)
    convs = [m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and not any(isinstance(m, (QATConv2d, QATLinear)) for m in plain.modules())
    for conv in convs:
        for channel in conv.weight.detach():
            assert len(torch.unique(channel)) <= 2**bits - 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.inference_mode():
        simulated, converted = prepared(torch.from_numpy(x_val[:64])), plain(torch.from_numpy(x_val[:64]))
    agreement = (simulated.argmax(1) == converted.argmax(1)).float().mean()
    assert agreement > (0.95 if bits == 8 else 0.5)


def test_qat_errors_are_explicit(trained_cnn):
    from labkit.optimize.qat import calibrate, convert_qat, prepare_qat

    model, x_train, _, _ = trained_cnn
    with pytest.raises(LabkitError, match="bits"):
        prepare_qat(model, bits=1)
    with pytest.raises(LabkitError, match="prepare_qat"):
        calibrate(model, x_train[:8])
    with pytest.raises(LabkitError, match="prepare_qat"):
        convert_qat(model)
    with pytest.raises(LabkitError, match="non vide"):
        calibrate(prepare_qat(model), x_train[:0])
    with pytest.raises(LabkitError, match="Conv2d ou Linear"):
        prepare_qat(torch.nn.Sequential(torch.nn.ReLU()).eval())


# ---------------------------------------------------------------- banc d'essai réduit

def test_smoke_benchmark_runs_and_checks_sizes_sparsity_and_accuracy(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import optimization

    result = optimization.run(optimization.SMOKE, tmp_path, progress=False)
    t = result["comparison"].table
    assert result["sparsity"] >= 0.8
    assert t.loc["int8 (ONNX Runtime)", "taille (ko)"] < t.loc["fp32 (ONNX Runtime)", "taille (ko)"] / 1.8
    assert t.loc["élagué + int8 (ONNX Runtime)", "zippé (ko)"] < t.loc["int8 (ONNX Runtime)", "zippé (ko)"]
    assert t.loc["élève distillé (PyTorch)", "paramètres"] * 10 <= t.loc["fp32 (PyTorch)", "paramètres"]
    assert t.loc["fp32 (PyTorch)", "précision"] == pytest.approx(result["accuracy_check"], abs=1e-9)
    assert t.loc["fp32 (PyTorch)", "précision"] > 0.5
    assert abs(t.loc["int8 (ONNX Runtime)", "précision"] - t.loc["fp32 (ONNX Runtime)", "précision"]) <= 0.03
    assert len(optimization.verdicts(result)) == len(optimization.TARGETS)
    # LiteRT : le même professeur, mêmes prédictions en fp32 ; int8 plus petit.
    assert t.loc["fp32 (LiteRT)", "précision"] == pytest.approx(t.loc["fp32 (PyTorch)", "précision"], abs=0.005)
    assert t.loc["int8 (LiteRT)", "taille (ko)"] < t.loc["fp32 (LiteRT)", "taille (ko)"] / 2.5
    assert abs(t.loc["int8 (LiteRT)", "précision"] - t.loc["fp32 (LiteRT)", "précision"]) <= 0.03
    # À 3 bits, l'arrondi après entraînement coûte cher et le QAT en rattrape une partie.
    low = result["low_bits"]
    assert low["ptq"] < low["fp32"] - 0.1 and low["qat"] > low["ptq"] + 0.1


def test_transfer_images_must_match_the_training_images(trained_cnn):
    from labkit.optimize.distill import with_teacher_labels

    teacher, x_train, _, _ = trained_cnn
    x, y = with_teacher_labels(teacher, x_train[:10], np.arange(10) % 6, x_train[10:15])
    assert x.shape == (15, 1, 64, 64) and y[:10].tolist() == (np.arange(10) % 6).tolist() and len(y) == 15
    with pytest.raises(LabkitError, match="x_transfer"):
        with_teacher_labels(teacher, x_train[:10], np.zeros(10, dtype=int), np.zeros((3, 1, 32, 32), np.float32))
