"""Banc de charge du service : le vrai serveur (``python -m labkit.serve``), fp32 contre int8, sous 16 clients.

    .venv/bin/python benchmarks/serve_load.py            # complet : 2 000 requêtes par scénario (quelques minutes)
    .venv/bin/python benchmarks/serve_load.py --smoke    # rapide (tests) : 200 requêtes, objectif non vérifié

Pour chaque artefact (fp32 puis int8, le même classifieur), un serveur est lancé dans un
sous-processus (1 fil ONNX Runtime, un lot à la fois) et reçoit ``--requests`` requêtes de
``--concurrency`` clients httpx simultanés, dans deux scénarios : une image par requête, puis
``--batch`` images par requête (un seul lot dans le modèle). Les scénarios alternent fp32 et int8
sur ``--rounds`` tours (le bruit d'une machine partagée touche ainsi les deux formats) ; les tours
sont mis en commun. Sont notés : requêtes réussies, échouées et perdues, latences p50/p95/p99, débit
(requêtes/s et images/s).

Objectif de l'issue : le service int8 soutient **au moins 1,5×** le débit du service fp32, sur la
même machine, dans la même exécution. Il est vérifié ici sur le scénario par lots (débit en images/s),
là où le modèle fait l'essentiel du travail ; en mode complet, le script sort avec le code 2 s'il n'est
pas atteint (code 1 si une requête échoue ou se perd). Le rapport donne aussi le rapport sur le scénario
à une image, dominé par le coût fixe d'une requête HTTP en Python.

Écrit ``benchmarks/results/serve_load.md``, ``.png`` et ``.json`` (``--smoke`` : ``serve_load_smoke.*``).
Le générateur de charge tourne sur la même machine que le serveur et partage ses cœurs : c'est noté.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT / "tests"))  # le lancement du serveur est celui des tests (serve_fixtures)

TARGET_RATIO = 1.5
FULL = dict(requests=2000, concurrency=16, batch=16, rounds=2, warmup=100, width=48, epochs=4, n_images=1500)
SMOKE = dict(requests=200, concurrency=16, batch=8, rounds=1, warmup=20, width=8, epochs=1, n_images=300)
SCENARIOS = ("1 image", "lot")


def _payloads(images, batch: int, count: int = 64) -> list[bytes]:
    """Corps multipart pré-encodés (les clients ne paient pas l'encodage PNG pendant la mesure)."""
    import httpx

    from labkit.serve.preprocess import encode_png

    pngs = [encode_png(image) for image in images]
    bodies = []
    for i in range(count):
        files = [("files", (f"{i}-{k}.png", pngs[(i * batch + k) % len(pngs)], "image/png")) for k in range(batch)]
        request = httpx.Request("POST", "http://x/api/predict", files=files)
        bodies.append((request.headers["content-type"], request.read()))
    return bodies


async def _drive(url: str, bodies, *, requests: int, concurrency: int, batch: int) -> dict:
    """``requests`` requêtes envoyées par ``concurrency`` clients ; chaque réponse est vérifiée."""
    import httpx

    latencies, failures, errors = [], 0, {}
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client(http: httpx.AsyncClient):
        nonlocal next_index, failures
        while next_index < requests:
            index = next_index
            next_index += 1
            content_type, body = bodies[index % len(bodies)]
            start = time.perf_counter()
            try:
                response = await http.post("/api/predict", content=body, headers={"content-type": content_type})
                ok = response.status_code == 200 and response.json()["batch_size"] == batch
                key = f"HTTP {response.status_code}"
            except (httpx.HTTPError, ValueError, KeyError) as error:
                ok, key = False, type(error).__name__
            if ok:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                failures += 1
                errors[key] = errors.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return {"latencies": latencies, "failed": failures, "errors": errors, "wall_s": wall, "issued": next_index}


def _summary(raws: list[dict], *, requests: int, batch: int) -> dict:
    """Regroupe les tours d'un scénario : latences mises en commun, débit = réussites / durée totale."""
    import numpy as np

    latencies = np.concatenate([r["latencies"] for r in raws]) if any(r["latencies"] for r in raws) else np.array([np.nan])
    completed = sum(len(r["latencies"]) for r in raws)
    failed = sum(r["failed"] for r in raws)
    wall = sum(r["wall_s"] for r in raws)
    errors = {}
    for r in raws:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
    return {
        "requests": requests * len(raws), "completed": completed, "failed": failed,
        "lost": requests * len(raws) - completed - failed, "errors": errors, "batch": batch,
        "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
        "p99_ms": float(np.percentile(latencies, 99)), "requests_per_s": completed / wall,
        "images_per_s": completed * batch / wall, "wall_s": wall,
        "images_per_s_rounds": [round(len(r["latencies"]) * batch / r["wall_s"], 1) for r in raws],
        "miscounted": sum(r["server_images"] != len(r["latencies"]) * batch for r in raws),
    }


def _server_metric(url: str, name: str) -> float:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics", timeout=30).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def measure(artifact: Path, label: str, images, config: dict, log_dir: Path) -> dict:
    """Lance un serveur sur ``artifact`` et mesure les deux scénarios ; renvoie les mesures brutes par scénario."""
    from serve_fixtures import ServerProcess

    results = {}
    extra = ["--threads", 1, "--concurrency", 1, "--log-level", "warning", "--max-images", max(32, config["batch"])]
    with ServerProcess(artifact, log_path=log_dir / f"{label}.log", extra=extra) as server:
        for scenario, batch in zip(SCENARIOS, (1, config["batch"])):
            bodies = _payloads(images, batch)
            asyncio.run(_drive(server.url, bodies, requests=config["warmup"], concurrency=config["concurrency"], batch=batch))
            before = _server_metric(server.url, "labkit_images_predicted_total")
            raw = asyncio.run(_drive(server.url, bodies, requests=config["requests"], concurrency=config["concurrency"],
                                     batch=batch))
            # Le serveur doit avoir classé exactement les images des requêtes réussies : rien de perdu en route.
            raw["server_images"] = int(_server_metric(server.url, "labkit_images_predicted_total") - before)
            results[scenario] = raw
    return results


def prepare_artifacts(config: dict, args, folder: Path):
    """Les artefacts à servir (donnés, ou entraînés ici) et les images envoyées (validation, jamais vues)."""
    from labkit.datasets import make_pcb_defects

    images = make_pcb_defects(64, difficulty=0.0, seed=99).images
    if args.fp32 and args.int8:
        return Path(args.fp32), Path(args.int8), images, "artefacts fournis (--fp32, --int8)"
    from serve_fixtures import train_artifacts

    trained = train_artifacts(folder, n_images=config["n_images"], epochs=config["epochs"], width=config["width"])
    return trained.fp32, trained.int8, images, f"make_cnn(width={config['width']}), 64×64, {config['epochs']} époque(s)"


def run(config: dict, args, out_dir: Path) -> dict:
    from labkit.optimize.measure import environment

    with tempfile.TemporaryDirectory(prefix="labkit-charge-") as folder:
        folder = Path(folder)
        fp32, int8, images, model_text = prepare_artifacts(config, args, folder)
        sizes = {"fp32": fp32.stat().st_size, "int8": int8.stat().st_size}
        rounds = {(fmt, s): [] for fmt in ("fp32", "int8") for s in SCENARIOS}
        load_before = os.getloadavg()
        for _ in range(config["rounds"]):
            for fmt, path in (("fp32", fp32), ("int8", int8)):
                for scenario, raw in measure(path, fmt, images, config, folder).items():
                    rounds[(fmt, scenario)].append(raw)
        load_after = os.getloadavg()
    batches = dict(zip(SCENARIOS, (1, config["batch"])))
    rows = [{"format": fmt, "scenario": s, **_summary(r, requests=config["requests"], batch=batches[s])}
            for (fmt, s), r in rounds.items()]
    return {"config": config, "model": model_text, "sizes": sizes, "environment": environment(),
            "load_average": [round(load_before[0], 2), round(load_after[0], 2)], "scenarios": rows}


def ratios(result: dict) -> dict:
    """Débit int8 / débit fp32, par scénario (images/s)."""
    by = {(r["format"], r["scenario"]): r for r in result["scenarios"]}
    return {s: by[("int8", s)]["images_per_s"] / by[("fp32", s)]["images_per_s"] for s in SCENARIOS}


def failures(result: dict) -> int:
    return sum(r["failed"] + r["lost"] + r["miscounted"] for r in result["scenarios"])


def write_report(result: dict, name: str, out_dir: Path, smoke: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c, env, ratio = result["config"], result["environment"], ratios(result)
    met = ratio["lot"] >= TARGET_RATIO
    verdict = ("indicatif (mode rapide, non vérifié)" if smoke else ("✅ atteint" if met else "❌ non atteint"))
    lines = [
        "# Banc de charge du service (labkit.serve)",
        "",
        f"Machine : {env['processeur']}, {env['cœurs']} cœurs ; Python {env['python']}, ONNX Runtime {env.get('onnxruntime')}, "
        f"NumPy {env['numpy']}. Charge moyenne (1 min) avant / après : {result['load_average'][0]} / {result['load_average'][1]}.",
        "",
        f"Serveur : `python -m labkit.serve` (uvicorn, un processus), **1 fil** ONNX Runtime, un lot à la fois. "
        f"Générateur de charge : un processus Python (httpx asynchrone), {c['concurrency']} clients simultanés, "
        f"**sur la même machine** : il partage les {env['cœurs']} cœurs avec le serveur.",
        "",
        f"Modèle servi : {result['model']} ; artefacts fp32 {result['sizes']['fp32'] / 1000:.0f} ko, "
        f"int8 {result['sizes']['int8'] / 1000:.0f} ko. {c['requests']} requêtes par scénario "
        f"et par tour (après {c['warmup']} d'échauffement), lots de {c['batch']} images ; {c['rounds']} tour(s) alternés "
        "fp32/int8, latences mises en commun, débit = requêtes réussies / durée totale.",
        "",
        "| format | scénario | requêtes | réussies | échecs | perdues | p50 (ms) | p95 (ms) | p99 (ms) | requêtes/s | images/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[f"| {r['format']} | {r['scenario']} ({r['batch']} img) | {r['requests']} | {r['completed']} | {r['failed']} | "
          f"{r['lost']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['requests_per_s']:.0f} | "
          f"{r['images_per_s']:.0f} |" for r in result["scenarios"]],
        "",
        "## Objectif : débit int8 / fp32 ≥ 1,5",
        "",
        "| scénario | int8 / fp32 (images/s) | débits des tours, fp32 → int8 |",
        "|---|---|---|",
        *[f"| {s} | **{ratio[s]:.2f}×** | {_rounds_text(result, s)} |" for s in SCENARIOS],
        "",
        f"Objectif vérifié sur le scénario par lots : {ratio['lot']:.2f}× — {verdict}.",
        "",
        _reading(result, ratio),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / f"{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    _figure(result).savefig(out_dir / f"{name}.png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close("all")
    return path


def _reading(result: dict, ratio: dict) -> str:
    """Lecture des chiffres, écrite d'après les mesures (pas à l'avance)."""
    by = {(r["format"], r["scenario"]): r for r in result["scenarios"]}
    single = by[("fp32", "1 image")]
    text = (f"À une image par requête, le service fp32 répond à {single['requests_per_s']:.0f} requêtes/s : le coût fixe "
            "d'une requête (HTTP, multipart, JSON, Python, et le générateur de charge sur les mêmes cœurs) pèse "
            f"autant ou plus que le modèle, et l'int8 y change le débit d'un facteur {ratio['1 image']:.2f}. ")
    if ratio["lot"] >= TARGET_RATIO:
        return text + (f"En lots de {by[('fp32', 'lot')]['batch']} images, le modèle fait l'essentiel du travail et "
                       f"l'int8 statique multiplie le débit par {ratio['lot']:.2f}.")
    return text + (f"En lots, l'int8 ne multiplie le débit que par {ratio['lot']:.2f} : avec un modèle aussi petit, "
                   "les nœuds de quantification (QDQ) coûtent autant que les convolutions qu'ils accélèrent.")


def _rounds_text(result: dict, scenario: str) -> str:
    by = {(r["format"], r["scenario"]): r for r in result["scenarios"]}
    return f"{by[('fp32', scenario)]['images_per_s_rounds']} → {by[('int8', scenario)]['images_per_s_rounds']}"


def _figure(result: dict):
    import matplotlib.pyplot as plt
    import numpy as np

    by = {(r["format"], r["scenario"]): r for r in result["scenarios"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = np.arange(len(SCENARIOS))
    for offset, fmt in ((-0.2, "fp32"), (0.2, "int8")):
        axes[0].bar(x + offset, [by[(fmt, s)]["images_per_s"] for s in SCENARIOS], width=0.4, label=fmt,
                    color="C0" if fmt == "fp32" else "C1")
    axes[0].set_xticks(x, [f"{s} ({by[('fp32', s)]['batch']} img/requête)" for s in SCENARIOS])
    axes[0].set_ylabel("débit (images/s)")
    axes[0].set_title("Débit soutenu")
    axes[0].legend()
    for fmt, color in (("fp32", "C0"), ("int8", "C1")):
        for s, style in zip(SCENARIOS, ("-", "--")):
            r = by[(fmt, s)]
            axes[1].plot(["p50", "p95", "p99"], [r["p50_ms"], r["p95_ms"], r["p99_ms"]], style, color=color, marker="o",
                         label=f"{fmt}, {s}")
    axes[1].set_ylabel("latence (ms)")
    axes[1].set_yscale("log")
    axes[1].set_title(f"Latence par requête, {result['config']['concurrency']} clients")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Banc de charge du service labkit.serve (fp32 contre int8).")
    parser.add_argument("--smoke", action="store_true", help="exécution rapide (tests) ; l'objectif n'est pas vérifié")
    parser.add_argument("--fp32", help="artefact fp32 à servir (sinon, un classifieur est entraîné)")
    parser.add_argument("--int8", help="artefact int8 du même classifieur")
    parser.add_argument("--requests", type=int, help="requêtes par scénario")
    parser.add_argument("--concurrency", type=int, help="clients simultanés")
    parser.add_argument("--batch", type=int, help="images par requête dans le scénario par lots")
    parser.add_argument("--rounds", type=int, help="tours alternés fp32/int8")
    parser.add_argument("--output-dir", type=Path, default=RESULTS, help="dossier des résultats")
    args = parser.parse_args(argv)
    if bool(args.fp32) != bool(args.int8):
        parser.error("--fp32 et --int8 vont ensemble.")
    config = dict(SMOKE if args.smoke else FULL)
    config.update({k: getattr(args, k) for k in ("requests", "concurrency", "batch", "rounds") if getattr(args, k)})
    name = "serve_load_smoke" if args.smoke else "serve_load"
    result = run(config, args, args.output_dir)
    path = write_report(result, name, args.output_dir, args.smoke)
    print(path.read_text(encoding="utf-8"))
    if failures(result):
        print(f"ÉCHEC : {failures(result)} requête(s) en échec, perdue(s) ou mal comptée(s) par le serveur.", file=sys.stderr)
        return 1
    ratio = ratios(result)["lot"]
    if not args.smoke and ratio < TARGET_RATIO:
        print(f"OBJECTIF NON ATTEINT : le service int8 soutient {ratio:.2f}× le débit du fp32 (objectif ≥ {TARGET_RATIO}×).",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
