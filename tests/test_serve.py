"""Le service de modèle (labkit.serve) : artefact, prétraitement partagé, vrai serveur HTTP, charge, Dockerfile.

Le serveur est lancé comme en production (``python -m labkit.serve`` dans un sous-processus)
et interrogé par HTTP. Aucun test ne compare une durée à un seuil.
"""

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from serve_fixtures import ROOT, SERVE_MODULE, ServerProcess, server_command, train_artifacts

httpx = pytest.importorskip("httpx", reason="httpx manque : pip install \"ameliorer-dl[dev]\"")
pytest.importorskip("fastapi", reason="FastAPI manque : pip install \"ameliorer-dl[serve]\"")
PIL = pytest.importorskip("PIL", reason="Pillow manque : pip install \"ameliorer-dl[serve]\"")

from PIL import Image  # noqa: E402

import labkit  # noqa: E402
from labkit.serve import ArtifactError, load_artifact  # noqa: E402
from labkit.serve.preprocess import (  # noqa: E402
    ImageDecodeError,
    ImageSizeError,
    encode_png,
    normalization_stats,
    preprocess_arrays,
    preprocess_bytes,
)

#: Limites du serveur de test : petites, pour tester le 413 sans envoyer des mégaoctets.
MAX_UPLOAD = 200_000
MAX_IMAGES = 8
#: Ce qui ne doit jamais apparaître dans une réponse : traces Python, chemins de fichiers.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|\.onnx\b|/tmp/|/home/|/work/|site-packages|\\\\")
#: Au moins un mot français courant : le message s'adresse à l'étudiant.
FRENCH = re.compile(r"\b(image|images|requête|envoi|envoyez|fichier|trop|au plus|vide|invalide|texte|champ|introuvable|exemple)\b", re.I)
#: Les paquets que le service importe : tous doivent figurer dans l'extra « serve ».
SERVE_PACKAGES = {"fastapi", "uvicorn", "python-multipart", "prometheus-client", "onnxruntime", "pillow"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Un petit CNN (width=8) entraîné sur 1 200 images de PCB, exporté en fp32 et en int8."""
    return train_artifacts(tmp_path_factory.mktemp("artefacts"))


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    """Le vrai serveur (fp32) sur un port libre de 127.0.0.1, arrêté à la fin du module."""
    log = tmp_path_factory.mktemp("journal") / "serveur.log"
    process = ServerProcess(trained.fp32, log_path=log, extra=["--max-upload-bytes", MAX_UPLOAD, "--max-images", MAX_IMAGES])
    with process:
        yield process
    assert not process.running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        yield http


@pytest.fixture(scope="module")
def fp32_artifact(trained):
    return load_artifact(trained.fp32)


def _png(image) -> bytes:
    return encode_png(image)


def _upload(*images: bytes, field: str = "files"):
    return [(field, (f"image{i}.png", data, "image/png")) for i, data in enumerate(images)]


def _tensor(trained, images):
    return preprocess_arrays(images, input_size=trained.input_size, mean=trained.mean, std=trained.std)


def _assert_clean_error(response, status: int, fragment: str):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and FRENCH.search(detail), detail
    assert fragment.lower() in detail.lower(), detail
    assert not LEAKS.search(response.text), response.text


# --------------------------------------------------------------------------- prétraitement (sans serveur)


def test_arrays_and_png_give_identical_tensors():
    images = np.random.default_rng(0).random((4, 64, 64), dtype=np.float32)
    mean, std = normalization_stats(images)
    batch = preprocess_arrays(images, input_size=64, mean=mean, std=std)
    for image, expected in zip(images, batch):
        assert np.array_equal(preprocess_bytes(_png(image), input_size=64, mean=mean, std=std), expected)


def test_arrays_and_png_identical_after_resize_and_crop():
    from labkit.datasets import make_pcb_defects

    images = make_pcb_defects(3, image_size=96, seed=3).images[:, :, 10:90]  # 96×80 : redimensionner et recadrer
    batch = preprocess_arrays(images, input_size=64, mean=0.3, std=0.2)
    assert batch.shape == (3, 1, 64, 64)
    for image, expected in zip(images, batch):
        assert np.array_equal(preprocess_bytes(_png(image), input_size=64, mean=0.3, std=0.2), expected)


def test_colour_jpeg_and_transparent_png_are_accepted():
    rgb = (np.random.default_rng(1).random((70, 90, 3)) * 255).astype(np.uint8)
    for mode, fmt in (("RGB", "JPEG"), ("RGBA", "PNG"), ("P", "PNG")):
        buffer = io.BytesIO()
        Image.fromarray(rgb).convert(mode).save(buffer, format=fmt)
        assert preprocess_bytes(buffer.getvalue(), input_size=32, mean=0.5, std=0.25).shape == (1, 32, 32)


def test_bad_images_are_refused_in_french():
    with pytest.raises(ImageSizeError, match="trop petite"):
        preprocess_bytes(_png(np.zeros((8, 40))), input_size=64, mean=0.5, std=0.2)
    with pytest.raises(ImageSizeError, match="trop petite"):
        preprocess_arrays(np.zeros((2, 10, 10)), input_size=64, mean=0.5, std=0.2)
    with pytest.raises(ImageDecodeError, match="pas une image lisible"):
        preprocess_bytes(b"bonjour", input_size=64, mean=0.5, std=0.2)
    truncated = _png(np.random.default_rng(0).random((64, 64)))
    with pytest.raises(ImageDecodeError):
        preprocess_bytes(truncated[: len(truncated) // 2], input_size=64, mean=0.5, std=0.2)
    with pytest.raises(labkit.LabkitError, match="`std`"):
        preprocess_arrays(np.zeros((1, 64, 64)), input_size=64, mean=0.5, std=0)


def test_serve_imports_neither_torch_nor_onnx():
    code = ("import sys, labkit.serve.app, labkit.serve.__main__; "
            "print(sorted(m for m in ('torch', 'tensorflow', 'onnx', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_import_labkit_serve_stays_light():
    code = "import sys, labkit.serve; print(sorted(m for m in ('fastapi', 'onnxruntime', 'torch', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- artefact


@pytest.mark.slow
def test_artifact_carries_its_metadata(trained):
    import onnx

    for path, fmt in ((trained.fp32, "onnx-fp32"), (trained.int8, "onnx-int8")):
        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert props["labkit.format"] == fmt
        assert json.loads(props["labkit.class_names_fr"])[0] == "trou manquant"
        assert float(props["labkit.mean"]) == pytest.approx(trained.mean)
        artifact = load_artifact(path)
        m = artifact.metadata
        assert (m.name, m.version, m.input_size, m.labkit_version) == ("pcb-cnn", "1.0.0", 64, labkit.__version__)
        assert m.std == pytest.approx(trained.std) and m.created
        assert artifact.session.get_session_options().intra_op_num_threads == 1
    assert load_artifact(trained.fp32, threads=2).session.get_session_options().intra_op_num_threads == 2


@pytest.mark.slow
def test_normalization_comes_from_training_data_only(trained):
    from labkit.datasets import make_pcb_defects

    data = make_pcb_defects(1200, difficulty=0.0, seed=0)
    assert (trained.mean, trained.std) == normalization_stats(data.images[:960])
    assert (trained.mean, trained.std) != normalization_stats(data.images)


def test_missing_or_corrupt_artifact_raises_french_error(tmp_path):
    with pytest.raises(ArtifactError, match="`path`.*introuvable"):
        load_artifact(tmp_path / "absent.onnx")
    corrupt = tmp_path / "corrompu.onnx"
    corrupt.write_bytes(b"ceci n'est pas un modele ONNX")
    with pytest.raises(labkit.LabkitError, match="`path`.*lisible") as caught:
        load_artifact(corrupt)
    assert "corrompu" in caught.value.reason and str(tmp_path) not in caught.value.reason


# --------------------------------------------------------------------------- le vrai serveur


@pytest.mark.slow
def test_health_describes_the_model(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["load_state"] == "primary" and health["fallback_used"] is False
    model = health["model"]
    assert (model["name"], model["version"], model["format"], model["input_size"]) == ("pcb-cnn", "1.0.0", "onnx-fp32", 64)
    assert model["class_names"][3] == "short" and model["class_names_fr"][3] == "court-circuit"
    assert health["uptime_s"] >= 0


@pytest.mark.slow
def test_uploaded_png_matches_in_process_artifact_and_pytorch(client, trained, fp32_artifact):
    import torch

    image = trained.val_images[0]
    x = _tensor(trained, image[None])
    expected = fp32_artifact.predict_proba(x)[0]
    with torch.no_grad():
        torch_class = int(trained.model(torch.from_numpy(x)).argmax(1)[0])
    answer = client.post("/api/predict", files=_upload(_png(image))).json()
    (prediction,) = answer["predictions"]
    assert prediction["class_index"] == int(np.argmax(expected)) == torch_class
    assert prediction["class_name"] == trained_class_names()[torch_class]
    assert prediction["class_name_fr"] == answer["class_names_fr"][prediction["class_name"]]
    got = np.array([prediction["probabilities"][name] for name in trained_class_names()])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert answer["batch_size"] == 1 and answer["model"]["format"] == "onnx-fp32"
    for key in ("preprocess_ms", "inference_ms", "server_ms"):
        assert answer[key] >= 0
    assert prediction["preprocess_ms"] >= 0


def trained_class_names():
    from labkit.datasets import DEFECT_CLASSES

    return list(DEFECT_CLASSES)


@pytest.mark.slow
def test_field_name_file_is_accepted_too(client, trained):
    response = client.post("/api/predict", files=_upload(_png(trained.val_images[1]), field="file"))
    assert response.status_code == 200 and response.json()["batch_size"] == 1


@pytest.mark.slow
def test_base64_json_gives_the_same_answer(client, trained):
    png = _png(trained.val_images[2])
    by_upload = client.post("/api/predict", files=_upload(png)).json()["predictions"][0]
    text = base64.b64encode(png).decode()
    by_json = client.post("/api/predict", json={"images": [text, "data:image/png;base64," + text]}).json()
    assert [p["probabilities"] for p in by_json["predictions"]] == [by_upload["probabilities"]] * 2


@pytest.mark.slow
def test_several_images_go_through_one_batch(client, trained, fp32_artifact):
    images = trained.val_images[:5]
    before = _metric(client, "labkit_model_inference_seconds_count")
    answer = client.post("/api/predict", files=_upload(*map(_png, images))).json()
    assert answer["batch_size"] == 5 and [p["index"] for p in answer["predictions"]] == list(range(5))
    assert _metric(client, "labkit_model_inference_seconds_count") == before + 1  # un seul passage dans le modèle
    expected = fp32_artifact.predict_proba(_tensor(trained, images))
    assert [p["class_index"] for p in answer["predictions"]] == expected.argmax(1).tolist()


def _too_small_png():
    return _png(np.full((8, 8), 0.5))


def _truncated_png():
    data = _png(np.random.default_rng(2).random((64, 64)))
    return data[: len(data) // 2]


BAD_REQUESTS = {
    "pas une image": (dict(files=_upload(b"bonjour, je suis un texte")), 422, "pas une image lisible"),
    "image tronquée": (dict(files=[("files", ("t.png", _truncated_png(), "image/png"))]), 422, "tronqué"),
    "corps vide (multipart)": (dict(content=b"", headers={"content-type": "multipart/form-data; boundary=x"}), 400, "vide"),
    "corps vide (JSON)": (dict(content=b"", headers={"content-type": "application/json"}), 400, "vide"),
    "mauvais type de contenu": (dict(content=b"bonjour", headers={"content-type": "text/plain"}), 415, "type de contenu"),
    "envoi trop gros": (dict(files=_upload(b"\0" * (MAX_UPLOAD + 50_000))), 413, "trop volumineux"),
    "image trop petite": (dict(files=_upload(_too_small_png())), 422, "trop petite"),
    "trop d'images": (dict(files=_upload(*[_too_small_png()] * (MAX_IMAGES + 1))), 413, "trop d'images"),
    "trop d'images (JSON)": (dict(json={"images": ["aGVsbG8="] * (MAX_IMAGES + 1)}), 413, "trop d'images"),
    "base64 invalide": (dict(json={"images": ["@@ pas du base64 @@"]}), 422, "base64"),
    "JSON sans images": (dict(json={"photos": []}), 422, "images"),
    "JSON illisible": (dict(content=b"{images:", headers={"content-type": "application/json"}), 400, "JSON invalide"),
    "aucun fichier": (dict(files={"autre": ("a.png", b"x", "image/png")}), 422, "aucune image"),
    "texte dans files": (dict(data={"files": "bonjour"}, files={"x": ("a.png", b"x", "image/png")}), 422, "pas du texte"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_gets_a_clean_french_4xx(client, case):
    kwargs, status, fragment = BAD_REQUESTS[case]
    _assert_clean_error(client.post("/api/predict", **kwargs), status, fragment)
    assert client.get("/api/health").status_code == 200  # le service continue


@pytest.mark.slow
def test_unknown_routes_and_methods_answer_in_french(client):
    _assert_clean_error(client.get("/api/inconnu"), 404, "introuvable")
    response = client.get("/api/predict")
    assert response.status_code == 405 and "méthode" in response.json()["detail"].lower()
    _assert_clean_error(client.get("/api/examples/99.png"), 404, "exemple")


def _metric(client, name: str, **labels) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@pytest.mark.slow
def test_metrics_parse_and_move(client, trained):
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert {"labkit_http_requests", "labkit_http_request_duration_seconds", "labkit_model_inference_seconds",
            "labkit_images_predicted"} <= set(families)
    assert families["labkit_http_request_duration_seconds"].type == "histogram"
    ok = dict(path="/api/predict", method="POST", status="200")
    before = (_metric(client, "labkit_http_requests_total", **ok), _metric(client, "labkit_images_predicted_total"))
    client.post("/api/predict", files=_upload(_png(trained.val_images[3]), _png(trained.val_images[4])))
    after = (_metric(client, "labkit_http_requests_total", **ok), _metric(client, "labkit_images_predicted_total"))
    assert after == (before[0] + 1, before[1] + 2)
    client.post("/api/predict", content=b"x", headers={"content-type": "text/plain"})
    assert _metric(client, "labkit_http_requests_total", path="/api/predict", status="415") >= 1
    assert _metric(client, "labkit_http_request_duration_seconds_count", path="/api/predict") >= 2


@pytest.mark.slow
def test_page_examples_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and 'lang="fr"' in page.text and 'capture="environment"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # aucune ressource externe
    for asset in ("/static/app.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200 and "http://" not in response.text and "https://" not in response.text
    examples = client.get("/api/examples").json()["examples"]
    assert [e["class_name"] for e in examples] == trained_class_names()
    png = client.get(examples[0]["url"])
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert examples[0]["alt"]


@pytest.mark.slow
def test_access_log_has_one_json_line_per_request_and_model_loaded_once(client, server):
    client.get("/api/health")
    client.post("/api/predict", content=b"x", headers={"content-type": "text/plain"})
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "duration_ms"} <= set(lines[-1])
    assert any(line["path"] == "/api/health" and line["status"] == 200 for line in lines)
    assert any(line["path"] == "/api/predict" and line["status"] == 415 for line in lines)
    assert server.log_text().count("Modèle chargé") == 1


# --------------------------------------------------------------------------- repli et démarrage


@pytest.mark.slow
def test_corrupt_primary_falls_back_to_fp32(trained, tmp_path):
    corrupt = tmp_path / "int8-corrompu.onnx"
    corrupt.write_bytes(trained.int8.read_bytes()[:2000])
    with ServerProcess(corrupt, fallback=trained.fp32, log_path=tmp_path / "serveur.log") as server:
        health = httpx.get(server.url + "/api/health", timeout=30).json()
    assert health["fallback_used"] is True and health["load_state"] == "fallback"
    assert health["model"]["format"] == "onnx-fp32"
    assert "secours" in health["fallback_reason"] and not LEAKS.search(health["fallback_reason"])
    assert "inutilisable" in server.log_text()


@pytest.mark.slow
def test_int8_server_matches_in_process_int8(trained, tmp_path):
    artifact = load_artifact(trained.int8)
    image = trained.val_images[5]
    expected = artifact.predict_proba(_tensor(trained, image[None]))[0]
    with ServerProcess(trained.int8, fallback=trained.fp32, log_path=tmp_path / "serveur.log") as server:
        assert httpx.get(server.url + "/api/health").json()["model"]["format"] == "onnx-int8"
        answer = httpx.post(server.url + "/api/predict", files=_upload(_png(image)), timeout=30).json()
    got = [answer["predictions"][0]["probabilities"][name] for name in trained_class_names()]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.slow
def test_missing_model_without_fallback_stops_the_server(tmp_path):
    server = ServerProcess(tmp_path / "absent.onnx", log_path=tmp_path / "serveur.log")
    assert server.wait_exit() != 0
    assert "introuvable" in server.log_text()


def test_internal_errors_are_generic_and_logged(trained_small, caplog):
    import asyncio

    from labkit.serve import create_app

    app = create_app(trained_small)

    @app.get("/api/panne")
    async def broken():
        raise RuntimeError("secret interne /etc/passwd")

    async def scenario():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get("/api/panne"), await http.get("/api/health")

    with caplog.at_level("ERROR", logger="labkit.serve"):
        response, health = asyncio.run(scenario())
    assert response.status_code == 500 and health.status_code == 200
    assert "erreur interne" in response.json()["detail"].lower()
    assert "secret" not in response.text and not LEAKS.search(response.text)
    assert any("secret interne" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


@pytest.fixture(scope="module")
def trained_small(tmp_path_factory):
    """Un artefact non entraîné (le test ne regarde pas les prédictions)."""
    from labkit.serve import export_classifier
    from labkit.torch import make_cnn

    return export_classifier(make_cnn(width=4).eval(), tmp_path_factory.mktemp("petit") / "m.onnx", name="petit",
                             version="0", mean=0.3, std=0.2)


def test_create_app_validates_its_arguments():
    from labkit.serve import create_app

    with pytest.raises(labkit.LabkitError, match="`max_images`"):
        create_app("m.onnx", max_images=0)
    with pytest.raises(labkit.LabkitError, match="`primary_path`"):
        create_app(None)


# --------------------------------------------------------------------------- lancer le service (notebook 10)


def _alive(pid: int) -> bool:
    """Vrai si le processus ``pid`` tourne encore (un zombie, qui attend d'être recueilli, compte comme arrêté)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_service_command_is_the_dockerfile_command_with_the_parent_watch():
    from labkit.serve import service_command
    from labkit.serve.__main__ import build_parser

    command = service_command("m.onnx", fallback="f.onnx", port=8123, extra=["--max-images", 4], parent_pid=77)
    assert command[1:3] == ["-m", SERVE_MODULE]
    args = build_parser().parse_args(command[3:])
    assert (args.model, args.fallback, args.port, args.max_images, args.parent_pid) == ("m.onnx", "f.onnx", 8123, 4, 77)
    with pytest.raises(labkit.LabkitError, match="`model`"):
        from labkit.serve import ServiceProcess

        ServiceProcess(None)


@pytest.mark.slow
def test_service_process_starts_on_a_free_port_and_stops_twice(trained_small, tmp_path):
    from labkit.serve import ServiceProcess

    service = ServiceProcess(trained_small, log_path=tmp_path / "serveur.log")
    with pytest.raises(labkit.LabkitError, match="pas démarré"):
        service.url
    with service:
        assert service.running and "--parent-pid" in service.command
        assert httpx.get(service.url + "/api/health", timeout=30).json()["model"]["name"] == "petit"
    assert not service.running
    service.stop()  # un second arrêt ne fait rien
    assert "Modèle chargé" in service.log_text()


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="la surveillance du parent repose sur os.getppid (Linux, macOS)")
def test_the_server_stops_when_the_process_that_started_it_dies(trained_small, tmp_path):
    """Un noyau tué (``os._exit``, sans atexit) ne laisse pas de serveur : ``--parent-pid`` l'arrête."""
    log = tmp_path / "serveur.log"
    script = (
        "import os\n"
        "from labkit.serve import ServiceProcess\n"
        f"service = ServiceProcess({str(trained_small)!r}, log_path={str(log)!r}).start()\n"
        "print(service.process.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    pid = int(out.stdout.split()[0])
    try:
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(pid), "le serveur a survécu au processus qui l'avait lancé"
        assert "a disparu" in log.read_text(encoding="utf-8")
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_screenshot_without_browser_says_why_in_french(monkeypatch, capsys):
    from labkit.serve import page

    monkeypatch.setattr(page, "find_chromium", lambda: None)
    assert page.screenshot_page("http://127.0.0.1:9/") is None
    assert re.search(r"(Chromium|Playwright) n'est pas installé", capsys.readouterr().out)
    with pytest.raises(labkit.LabkitError, match="`url`"):
        page.screenshot_page("http://service.invalid/")


# --------------------------------------------------------------------------- charge bornée


@pytest.mark.slow
def test_bounded_load_loses_no_request(trained, tmp_path):
    """Banc de charge borné : 4 × 500 = 2 000 requêtes de 16 clients, fp32 et int8, une image et par lots.

    Aucune requête perdue ni en échec ; aucun seuil de durée ni de débit (l'objectif int8/fp32
    est vérifié par le banc complet, pas ici).
    """
    out = tmp_path / "resultats"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serve_load.py"), "--smoke", "--fp32", str(trained.fp32),
         "--int8", str(trained.int8), "--requests", "500", "--output-dir", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = (out / "serve_load_smoke.md").read_text(encoding="utf-8")
    assert "p95" in report and "int8 / fp32" in report and "échecs" in report
    rows = json.loads((out / "serve_load_smoke.json").read_text(encoding="utf-8"))["scenarios"]
    assert len(rows) == 4
    for row in rows:
        assert row["failed"] == 0 and row["completed"] == row["requests"] > 0
    assert (out / "serve_load_smoke.png").stat().st_size > 0


# --------------------------------------------------------------------------- Dockerfile


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _serve_extra() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"].get("optional-dependencies", {}).get("serve", [])


def _distribution_name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_dockerfile_is_slim_non_root_with_healthcheck():
    instructions = _dockerfile_instructions()
    assert ("FROM", "python:3.11-slim") in instructions
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    (healthcheck,) = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert "/api/health" in healthcheck and "urllib" in healthcheck and "curl" not in healthcheck


def test_dockerfile_cmd_is_the_command_the_tests_start():
    from labkit.serve.__main__ import MODULE, build_parser

    (cmd,) = [json.loads(rest) for keyword, rest in _dockerfile_instructions() if keyword == "CMD"]
    tested = server_command("m.onnx", port=8000)
    assert MODULE == SERVE_MODULE and cmd[:3] == ["python", "-m", SERVE_MODULE] and tested[1:3] == cmd[1:3]
    args = build_parser().parse_args(cmd[3:])
    assert (args.host, args.port) == ("0.0.0.0", 8000) and args.model.endswith(".onnx")


def test_dockerfile_installs_only_the_serve_extra():
    extra = {_distribution_name(r) for r in _serve_extra()}
    installs = [rest for keyword, rest in _dockerfile_instructions() if keyword == "RUN" and "pip install" in rest]
    assert installs, "le Dockerfile doit installer le projet avec pip install \".[serve]\""
    for command in installs:
        for token in command.split("pip install", 1)[1].split("&&")[0].split():
            token = token.strip("'\"")
            if token.startswith("-"):
                continue
            if token.startswith("."):
                assert re.fullmatch(r"\.\[serve\]", token), f"le projet doit être installé avec l'extra serve, reçu {token}"
                assert extra, "pyproject.toml : l'extra « serve » n'existe pas encore ([project.optional-dependencies] serve)"
            else:
                assert _distribution_name(token) in extra, f"{token} est installé par le Dockerfile mais absent de l'extra serve"
    assert "torch" not in extra
    missing = SERVE_PACKAGES - extra
    assert not missing, f"pyproject.toml : ajouter à [project.optional-dependencies] serve : {sorted(missing)}"


def test_static_files_are_shipped_with_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject.get("tool", {}).get("setuptools", {}).get("package-data", {})
    patterns = package_data.get("labkit.serve", []) + package_data.get("labkit", []) + package_data.get("*", [])
    assert any("static" in p for p in patterns), (
        "pyproject.toml : ajouter [tool.setuptools.package-data] \"labkit.serve\" = [\"static/*\"] "
        "(sinon pip install . n'embarque pas la page)"
    )
