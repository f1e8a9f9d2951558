"""Le projet final (notebook 12) : la ligne de production, le backbone pré-entraîné et les mesures du budget."""

import numpy as np
import pytest
import torch

from labkit import LabkitError
from labkit.datasets import DEFECT_CLASSES
from labkit.datasets.line import LINE_CAMERA, LineBudget, make_line_images, make_line_project
from labkit.pretrained import (
    WEIGHTS_PATH,
    load_backbone,
    make_transfer_model,
    manifest,
    pretrained_weights,
    pretraining_stats,
    weights_digest,
)
from labkit.pretrained.pretrain import FULL, SMOKE, pretrain
from labkit.project import (
    artifact_fingerprint,
    artifact_seed,
    budget_measurements,
    budget_table,
    evaluate_artifact,
    latency_ratio,
    reference_artifact,
)
from labkit.serve import export_classifier, preprocess_arrays


@pytest.fixture(scope="module")
def project():
    return make_line_project(seed=0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return reference_artifact(tmp_path_factory.mktemp("reference") / "reference.onnx")


def test_the_line_project_is_deterministic_and_holds_the_announced_traps(project):
    again = make_line_project(seed=0)
    assert np.array_equal(project.workshop.images, again.workshop.images)
    assert np.array_equal(project.line_unlabelled, again.line_unlabelled)
    counts = np.bincount(project.workshop.labels, minlength=len(DEFECT_CLASSES))
    assert counts.argmin() == DEFECT_CLASSES.index("spurious_copper") and counts.max() > 4 * counts.min()  # déséquilibre
    views = np.bincount(project.workshop.board_ids)
    assert set(views.tolist()) == {3}  # trois vues de chaque carte
    assert set(np.bincount(project.line_check.labels).tolist()) == {30}  # contrôle : parts égales
    # La caméra de la ligne est plus sombre et moins contrastée que celle de l'atelier.
    assert project.line_check.images.mean() < project.workshop.images.mean() - 0.05
    assert project.line_check.images.std() < project.workshop.images.std()
    assert project.line_check.params["camera"] == LINE_CAMERA
    assert "cuivre parasite 45" in repr(project)


def test_line_images_reject_bad_arguments_in_french():
    with pytest.raises(LabkitError, match="`n_images`"):
        make_line_images(3, seed=0)
    with pytest.raises(LabkitError, match="`seed`"):
        make_line_images(12, seed=-1)
    assert not np.array_equal(make_line_images(12, seed=1).images, make_line_images(12, seed=2).images)


def test_the_budget_table_lists_every_criterion():
    table = LineBudget().as_table()
    assert list(table.index) == ["précision sur la ligne", "rappel minimal par classe",
                                 "latence b1 / latence de la référence", "taille du fichier (ko)"]


# --------------------------------------------------------------------------- backbone pré-entraîné


def test_the_shipped_weights_match_their_manifest_and_stay_small():
    info = manifest()
    assert weights_digest(pretrained_weights()) == info["weights_sha256"]
    assert WEIGHTS_PATH.stat().st_size < 300_000
    # Les poids livrés viennent des réglages du script versionné, et le pré-entraînement avait appris.
    assert info["settings"] == FULL
    assert info["final_val_accuracy"] > 0.9
    mean, std = pretraining_stats()
    assert 0 < mean < 1 and 0 < std < 1


def test_pretraining_is_reproducible(tmp_path):
    """Même graine, mêmes fils, même machine : mêmes poids (en mode rapide, quelques secondes)."""
    first, info = pretrain(dict(SMOKE), progress=False)
    second, _ = pretrain(dict(SMOKE), progress=False)
    assert weights_digest(first) == weights_digest(second) == info["weights_sha256"]
    assert weights_digest(first) != manifest()["weights_sha256"]


def _probe_accuracy(model, train, test):
    """Précision d'un modèle de transfert gelé dont seule la tête apprend (sonde linéaire)."""
    from labkit import torch as lkt

    mean, std = pretraining_stats()
    x = lambda data: preprocess_arrays(data.images, input_size=32, mean=mean, std=std)  # noqa: E731
    torch.manual_seed(0)
    lkt.fit(model, x(train), train.labels, x(test), test.labels, epochs=8, lr=1e-2, progress=False, seed=0)
    return lkt.evaluate(model, x(test), test.labels)["accuracy"]


def test_the_shipped_backbone_carries_pcb_features():
    """Une tête linéaire sur le backbone livré reconnaît les défauts ; sur un backbone aléatoire, bien moins."""
    from labkit.datasets import make_pcb_defects

    train, test = make_pcb_defects(600, difficulty=0.35, seed=41), make_pcb_defects(300, difficulty=0.35, seed=42)
    pretrained = _probe_accuracy(make_transfer_model(freeze=True), train, test)
    random = _probe_accuracy(make_transfer_model(pretrained=False, freeze=True), train, test)
    assert pretrained > 0.85, pretrained
    assert pretrained > random + 0.2, (pretrained, random)


def test_a_frozen_backbone_keeps_its_pretrained_batch_norm_statistics():
    model = make_transfer_model(freeze=True)
    before = model[0][1].running_mean.clone()
    model.train()
    model(torch.randn(8, 1, 32, 32) * 3 + 1)
    assert torch.equal(model[0][1].running_mean, before)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 64 * 6 + 6
    tuned = make_transfer_model(freeze=False).train()
    tuned(torch.randn(8, 1, 32, 32) * 3 + 1)
    assert not torch.equal(tuned[0][1].running_mean, before)


def test_the_keras_backbone_computes_the_same_features():
    x = np.random.default_rng(0).standard_normal((4, 1, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = load_backbone().eval()(torch.from_numpy(x)).numpy()
    from labkit.pretrained import load_keras_backbone

    got = np.asarray(load_keras_backbone()(x.transpose(0, 2, 3, 1), training=False))
    np.testing.assert_allclose(got, expected, atol=1e-4)


# --------------------------------------------------------------------------- mesures du budget


def test_the_grader_seed_depends_on_the_weights_not_on_the_export_date(tmp_path, reference):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(reference))
    next(p for p in model.metadata_props if p.key.endswith("created")).value = "2030-01-01T00:00:00+00:00"
    redated = tmp_path / "redate.onnx"
    onnx.save(model, str(redated))
    assert artifact_seed(redated, "ex1") == artifact_seed(reference, "ex1")  # même modèle, autre date : mêmes images
    assert artifact_fingerprint(redated) != artifact_fingerprint(reference)  # mais pas le même fichier
    assert artifact_seed(reference, "ex1") != artifact_seed(reference, "ex2")
    weight = model.graph.initializer[0]
    values = numpy_helper.to_array(weight).copy()
    values.flat[0] += 1e-3
    weight.CopyFrom(numpy_helper.from_array(values, weight.name))
    retrained = tmp_path / "retrained.onnx"
    onnx.save(model, str(retrained))
    assert artifact_seed(retrained, "ex1") != artifact_seed(reference, "ex1")  # un poids change : d'autres images


def test_evaluate_artifact_reports_accuracy_and_every_class_recall(tmp_path):
    """Un modèle qui répond toujours la même classe : précision 1/6 sur des classes égales, rappel minimal 0."""
    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(1, 6))
    with torch.no_grad():
        model[2].weight.zero_()
        model[2].bias.copy_(torch.tensor([0.0, 0.0, 5.0, 0.0, 0.0, 0.0]))
    path = export_classifier(model.eval(), tmp_path / "constant.onnx", name="constant", version="1", mean=0.5, std=0.25, input_size=32)
    scores = evaluate_artifact(path, make_line_images(60, seed=5))
    assert scores["accuracy"] == pytest.approx(1 / 6)
    assert scores["min_class_recall"] == 0 and scores["class_recall"][2] == 1
    with pytest.raises(LabkitError, match="`path`"):
        evaluate_artifact(tmp_path / "absent.onnx", make_line_images(6, seed=5))
    with pytest.raises(LabkitError, match="`data`"):
        evaluate_artifact(path, np.zeros((6, 64, 64)))


def test_latency_ratio_alternates_the_two_models(reference):
    """Contre lui-même, le rapport est proche de 1 (large tolérance : aucune vitesse n'est jugée ici)."""
    result = latency_ratio(reference, reference, runs=20, rounds=3, warmup=5)
    assert 0.5 < result["ratio"] < 2
    assert result["ratio_min"] <= result["ratio"] <= result["ratio_max"]
    assert result["rounds"] == 3 and result["reference_ms"] > 0
    with pytest.raises(LabkitError, match="`reference_path`"):
        latency_ratio(reference, reference.with_name("absent.onnx"))


def test_budget_measurements_keep_the_provenance_of_the_artifact(reference):
    line = make_line_images(60, seed=9)
    latency = {"ratio": 1.0}
    table = budget_table(reference, line, reference, LineBudget(), latency=latency)
    assert list(table["tenu"]) == ["❌", "❌", "❌", "❌"]
    from labkit.report import DataRef

    measures = budget_measurements(table, data=DataRef("ligne", 60, seed=9), artifact=reference)
    assert set(measures) == {"précision sur la ligne", "rappel minimal par classe", "latence b1 / latence de la référence",
                             "taille du fichier"}
    assert artifact_fingerprint(reference) in measures["taille du fichier"].source.reference
    assert measures["taille du fichier"].unit == "ko" and measures["latence b1 / latence de la référence"].direction == "lower"
    with pytest.raises(LabkitError, match="`budget`"):
        budget_table(reference, line, reference, {"min_accuracy": 0.8}, latency=latency)


def test_the_hidden_tests_write_the_budget_of_the_line_in_clear(root):
    """Les tests cachés du notebook 12 écrivent le budget en clair (rien que la copie puisse modifier) : les mêmes
    valeurs que ``LineBudget``, et un sel de graine que la version étudiante ne contient pas."""
    import re

    solution = (root / "solutions" / "12_projet_pcb" / "12_projet_pcb.ipynb").read_text(encoding="utf-8")
    student = (root / "notebooks" / "12_projet_pcb" / "12_projet_pcb.ipynb").read_text(encoding="utf-8")
    budget = LineBudget()
    for name, value in (("_MIN_ACCURACY", budget.min_accuracy), ("_MIN_CLASS_RECALL", budget.min_class_recall),
                        ("_MAX_LATENCY_RATIO", budget.max_latency_ratio), ("_MAX_SIZE_KB", budget.max_size_kb)):
        found = {float(v) for v in re.findall(rf"{name} = ([0-9.]+)", solution)}
        assert found == {value}, (name, found)
    salts = set(re.findall(r'artifact_seed\((?:FP32_ARTIFACT|DELIVERABLE), \\"([^\\]+)\\"\)', solution))
    assert len(salts) == 2 and not any(salt in student for salt in salts), salts
