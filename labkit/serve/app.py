"""Le service HTTP : un classifieur ONNX derrière FastAPI, avec sa page web et ses métriques.

Routes :

- ``GET /`` : la page (française, sans aucune ressource externe) ; ``/static/…`` : ses fichiers ;
- ``GET /api/health`` : modèle chargé (nom, version, format, taille d'entrée, classes),
  état du chargement (modèle de secours utilisé ? pourquoi ?), durée de fonctionnement ;
- ``POST /api/predict`` : une ou plusieurs images, en ``multipart/form-data`` (champ
  ``files``, ou ``file``) ou en JSON ``{"images": ["<base64>", ...]}`` ; toutes les
  images d'une requête passent dans **un seul lot** ;
- ``GET /api/examples`` et ``GET /api/examples/{i}.png`` : une carte d'exemple par classe ;
- ``GET /metrics`` : métriques Prometheus (registre propre à l'application).

Le modèle est chargé **une fois**, au démarrage. Une entrée invalide reçoit une réponse
4xx ``{"detail": "<message en français>"}`` et le service continue ; aucune réponse ne
contient de chemin de fichier ni de trace d'exécution (elles vont dans le journal).

>>> app = create_app("modele.onnx")  # rien n'est chargé avant le démarrage du serveur
>>> app.title
'labkit : détection de défauts sur PCB'
"""

import base64
import binascii
import http
import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from .. import __version__ as labkit_version
from ..errors import LabkitError
from ..validation import validate_int
from .artifact import Artifact, ArtifactError, load_artifact
from .preprocess import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_SIZE,
    ImageDecodeError,
    ImageSizeError,
    ImageTooLargeError,
    encode_png,
    preprocess_bytes,
)

__all__ = ["create_app", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_IMAGES"]

logger = logging.getLogger("labkit.serve")
access_logger = logging.getLogger("labkit.serve.access")

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: 16 Mio par requête : une photo de téléphone passe, un envoi abusif non.
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_IMAGES = 32
_EXAMPLES_SEED = 2024
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
]
_FRENCH_STATUS = {
    400: "Requête invalide.",
    404: "Ressource introuvable.",
    405: "Méthode HTTP non autorisée pour cette adresse.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
    422: "Requête invalide.",
}


@dataclass(frozen=True)
class Limits:
    """Les limites d'une requête de prédiction."""

    max_upload_bytes: int
    max_images: int
    min_image_size: int
    max_pixels: int


@dataclass
class Service:
    """Ce que le démarrage a chargé : le modèle, son origine et les exemples."""

    artifact: Artifact
    fallback_used: bool
    fallback_reason: str | None
    examples: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


class Metrics:
    """Les métriques Prometheus d'une application, dans **son propre** registre."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("labkit_http_requests", "Requêtes HTTP traitées, par route, méthode et statut.",
                                ["path", "method", "status"], registry=self.registry)
        self.latency = Histogram("labkit_http_request_duration_seconds", "Durée de traitement des requêtes HTTP.",
                                 ["path"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.inference = Histogram("labkit_model_inference_seconds", "Durée d'un passage du lot dans le modèle (ONNX Runtime).",
                                   registry=self.registry,
                                   buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
        self.images = Counter("labkit_images_predicted", "Images classées par le modèle.", registry=self.registry)


class RequestError(Exception):
    """Une erreur du client : statut 4xx et message français (jamais de chemin ni de trace)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


# --------------------------------------------------------------------------- démarrage


def _load_service(primary: Path, fallback: Path | None, threads: int) -> Service:
    """Charge le modèle principal ; s'il échoue, le modèle de secours (sinon, erreur : le serveur ne démarre pas)."""
    try:
        return Service(load_artifact(primary, threads=threads), fallback_used=False, fallback_reason=None)
    except ArtifactError as error:
        if fallback is None:
            logger.error("Modèle principal inutilisable et aucun modèle de secours : %s", error)
            raise
        logger.warning("Modèle principal inutilisable (%s) : passage au modèle de secours.", error)
        reason = f"Le modèle principal n'a pas pu être chargé ({error.reason}) : le modèle de secours est utilisé."
    return Service(load_artifact(fallback, threads=threads), fallback_used=True, fallback_reason=reason)


def _make_examples(input_size: int) -> list[dict]:
    """Une carte d'exemple par classe de défaut, en PNG (générée, jamais lue sur disque)."""
    from ..datasets.pcb import DEFECT_CLASSES, DEFECT_LABELS_FR, make_pcb_defects

    data = make_pcb_defects(60, image_size=int(np.clip(input_size, 24, 256)), seed=_EXAMPLES_SEED)
    examples = []
    for label, name in enumerate(DEFECT_CLASSES):
        image = data.images[int(np.flatnonzero(data.labels == label)[0])]
        examples.append({"index": label, "class_name": name, "class_name_fr": DEFECT_LABELS_FR[name],
                         "alt": f"Carte d'exemple présentant le défaut « {DEFECT_LABELS_FR[name]} »",
                         "png": encode_png(image)})
    return examples


# --------------------------------------------------------------------------- lecture des requêtes


async def _read_body(receive_stream, limit: int, declared: str | None) -> bytes:
    """Lit le corps, au plus ``limit`` octets ; au-delà, 413 (le reste est lu et jeté, dans une borne)."""
    if declared is not None:
        try:
            declared_length = int(declared)
        except ValueError:
            raise RequestError(400, "En-tête Content-Length invalide.") from None
        if declared_length > 8 * limit:
            raise RequestError(413, _too_big(limit))
    chunks, total = [], 0
    try:
        async for chunk in receive_stream:
            total += len(chunk)
            if total <= limit:
                chunks.append(chunk)
            elif total > 8 * limit:
                break
    except ClientDisconnect:
        raise RequestError(400, "Connexion interrompue pendant l'envoi de la requête.") from None
    if total > limit:
        raise RequestError(413, _too_big(limit))
    return b"".join(chunks)


def _too_big(limit: int) -> str:
    return f"Envoi trop volumineux : au plus {limit / 1024 / 1024:.1f} Mio par requête.".replace(".", ",", 1)


async def _multipart_images(headers, body: bytes, max_images: int) -> list[bytes]:
    async def stream():
        yield body

    try:
        form = await MultiPartParser(headers, stream(), max_files=max_images + 1, max_fields=64,
                                     max_part_size=1024 * 1024).parse()
    except MultiPartException as error:
        if "files" in error.message.lower():
            raise RequestError(413, _too_many(max_images)) from None
        raise RequestError(400, "Formulaire multipart invalide : envoyez les images dans le champ « files ».") from None
    try:
        parts = form.getlist("files") + form.getlist("file")
        if any(isinstance(part, str) for part in parts):
            raise RequestError(422, "Le champ « files » doit contenir des fichiers image, pas du texte.")
        return [await part.read() for part in parts]
    finally:
        await form.close()


def _json_images(body: bytes, max_images: int) -> list[bytes]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, "Corps JSON invalide : attendu {\"images\": [\"<base64>\", ...]}.") from None
    images = payload.get("images") if isinstance(payload, dict) else None
    if not isinstance(images, list) or not all(isinstance(item, str) for item in images):
        raise RequestError(422, "Le JSON doit avoir la forme {\"images\": [\"<image en base64>\", ...]}.")
    if len(images) > max_images:
        raise RequestError(413, _too_many(max_images))
    decoded = []
    for number, text in enumerate(images, start=1):
        if text.startswith("data:") and "," in text:  # adresse data:image/png;base64,...
            text = text.split(",", 1)[1]
        try:
            decoded.append(base64.b64decode(text.strip(), validate=True))
        except (binascii.Error, ValueError):
            raise RequestError(422, f"Image n°{number} : le texte n'est pas du base64 valide.") from None
    return decoded


def _too_many(max_images: int) -> str:
    return f"Trop d'images dans une requête : au plus {max_images}."


async def read_images(request, limits: Limits) -> list[bytes]:
    """Les octets de chaque image envoyée (multipart ou JSON), limites vérifiées."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/json"):
        raise RequestError(415, "Type de contenu non pris en charge : envoyez multipart/form-data (champ « files ») "
                                "ou application/json ({\"images\": [\"<base64>\", ...]}).")
    body = await _read_body(request.stream(), limits.max_upload_bytes, request.headers.get("content-length"))
    if not body.strip():
        raise RequestError(400, "Requête vide : aucune image reçue.")
    if content_type == "application/json":
        images = _json_images(body, limits.max_images)
    else:
        images = await _multipart_images(request.headers, body, limits.max_images)
    if not images:
        raise RequestError(422, "Aucune image reçue : envoyez un ou plusieurs fichiers dans le champ « files ».")
    if len(images) > limits.max_images:
        raise RequestError(413, _too_many(limits.max_images))
    return images


# --------------------------------------------------------------------------- prédiction


def _for_image(number: int, error: Exception) -> str:
    text = str(error)
    return f"Image n°{number} : {text[:1].lower()}{text[1:]}"


def _preprocess_all(images: list[bytes], artifact: Artifact, limits: Limits) -> tuple[np.ndarray, list[float]]:
    m = artifact.metadata
    tensors, durations = [], []
    for number, data in enumerate(images, start=1):
        start = time.perf_counter()
        try:
            tensors.append(preprocess_bytes(data, input_size=m.input_size, mean=m.mean, std=m.std,
                                            min_size=limits.min_image_size, max_pixels=limits.max_pixels))
        except ImageTooLargeError as error:
            raise RequestError(413, _for_image(number, error)) from None
        except (ImageSizeError, ImageDecodeError) as error:
            raise RequestError(422, _for_image(number, error)) from None
        durations.append((time.perf_counter() - start) * 1000)
    return np.stack(tensors), durations


def predict_images(images: list[bytes], service: Service, limits: Limits, metrics: Metrics) -> dict:
    """Prétraite chaque image, puis **un seul** passage du lot dans le modèle ; renvoie la réponse JSON."""
    artifact, m = service.artifact, service.artifact.metadata
    batch, durations = _preprocess_all(images, artifact, limits)
    start = time.perf_counter()
    probabilities = artifact.predict_proba(batch)
    inference_s = time.perf_counter() - start
    metrics.inference.observe(inference_s)
    metrics.images.inc(len(images))
    predictions = []
    for index, (row, duration) in enumerate(zip(probabilities, durations)):
        best = int(np.argmax(row))
        predictions.append({
            "index": index, "class_index": best, "class_name": m.class_names[best], "class_name_fr": m.class_names_fr[best],
            "probabilities": {name: float(p) for name, p in zip(m.class_names, row)}, "preprocess_ms": round(duration, 3),
        })
    return {
        "model": {"name": m.name, "version": m.version, "format": m.format},
        "batch_size": len(images),
        "preprocess_ms": round(sum(durations), 3),
        "inference_ms": round(inference_s * 1000, 3),
        "class_names_fr": dict(zip(m.class_names, m.class_names_fr)),
        "predictions": predictions,
    }


# --------------------------------------------------------------------------- journal, métriques, en-têtes


class ObservabilityMiddleware:
    """Middleware ASGI : une ligne JSON de journal par requête, métriques, en-têtes de sécurité."""

    def __init__(self, app, *, metrics: Metrics, route_label):
        self.app, self.metrics, self.route_label = app, metrics, route_label

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, recorded = 500, False

        def record() -> None:
            # Avant le dernier octet de la réponse : le client qui lit ensuite /metrics ou le journal les trouve à jour.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            elapsed = time.perf_counter() - start
            label = self.route_label(scope)
            self.metrics.requests.labels(path=label, method=scope["method"], status=str(status)).inc()
            self.metrics.latency.labels(path=label).observe(elapsed)
            access_logger.info(json.dumps({"method": scope["method"], "path": scope["path"], "route": label,
                                           "status": status, "duration_ms": round(elapsed * 1000, 3)}, ensure_ascii=False))

        async def send_observed(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            record()  # exception non rattrapée : la réponse 500 viendra de ServerErrorMiddleware


def _route_labeler(app):
    """Étiquette de route pour les métriques : le gabarit (``/api/examples/{index}.png``), jamais l'adresse brute."""
    def label(scope) -> str:
        partial = None
        for route in app.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "path", "autre")
            if match == Match.PARTIAL and partial is None:  # bonne adresse, mauvaise méthode (405)
                partial = getattr(route, "path", "autre")
        return partial or "autre"

    return label


def _install_error_handlers(app) -> None:
    async def request_error(request, error: RequestError):
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    async def http_error(request, error: HTTPException):
        detail = error.detail
        if not isinstance(detail, str) or detail == http.HTTPStatus(error.status_code).phrase:
            detail = _FRENCH_STATUS.get(error.status_code, "Requête refusée.")
        return JSONResponse({"detail": detail}, status_code=error.status_code, headers=getattr(error, "headers", None))

    async def validation_error(request, error: RequestValidationError):
        fields = sorted({str(item.get("loc", ["?"])[-1]) for item in error.errors()})
        return JSONResponse({"detail": f"Paramètres invalides : {', '.join(fields)}."}, status_code=422)

    async def internal_error(request, error: Exception):
        reference = uuid.uuid4().hex[:12]
        logger.error("Erreur interne (référence %s) sur %s %s", reference, request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": f"Erreur interne du serveur (référence {reference}). Réessayez plus tard."},
                            status_code=500)

    app.add_exception_handler(RequestError, request_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, internal_error)


# --------------------------------------------------------------------------- l'application


def _check_path(name: str, value, *, optional: bool = False) -> Path | None:
    if value is None and optional:
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        raise LabkitError(f"`{name}` doit être le chemin d'un artefact ONNX, reçu {value!r}.")
    return Path(value)


def create_app(primary_path, fallback_path=None, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
               max_images: int = DEFAULT_MAX_IMAGES, min_image_size: int = DEFAULT_MIN_SIZE,
               max_pixels: int = DEFAULT_MAX_PIXELS, threads: int = 1, concurrency: int = 1):
    """Crée l'application FastAPI qui sert l'artefact ``primary_path``.

    - ``fallback_path`` : artefact de secours (fp32 en général), chargé si le principal échoue ;
    - ``max_upload_bytes`` (413 au-delà), ``max_images`` par requête (413 au-delà),
      ``min_image_size`` en pixels (422 en dessous), ``max_pixels`` par image (413 au-delà) ;
    - ``threads`` : fils de calcul d'ONNX Runtime (1 : mesures stables) ;
    - ``concurrency`` : nombre de lots traités en même temps (les autres attendent leur tour).

    Le modèle n'est chargé qu'au démarrage du serveur (*lifespan*). Exemple en tête du module.
    """
    primary = _check_path("primary_path", primary_path)
    fallback = _check_path("fallback_path", fallback_path, optional=True)
    limits = Limits(validate_int("max_upload_bytes", max_upload_bytes, minimum=1024),
                    validate_int("max_images", max_images, minimum=1, maximum=1024),
                    validate_int("min_image_size", min_image_size, minimum=1, maximum=4096),
                    validate_int("max_pixels", max_pixels, minimum=1))
    threads = validate_int("threads", threads, minimum=1, maximum=256)
    concurrency = validate_int("concurrency", concurrency, minimum=1, maximum=256)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app):
        service = await anyio.to_thread.run_sync(_load_service, primary, fallback, threads)
        service.examples = await anyio.to_thread.run_sync(_make_examples, service.artifact.metadata.input_size)
        app.state.service = service
        app.state.limiter = anyio.CapacityLimiter(concurrency)
        logger.info("Service prêt : %r%s.", service.artifact, " (modèle de secours)" if service.fallback_used else "")
        yield
        logger.info("Arrêt du service.")

    app = FastAPI(title="labkit : détection de défauts sur PCB", version=labkit_version, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.metrics = metrics
    app.state.limits = limits
    _install_error_handlers(app)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, route_label=_route_labeler(app))

    @app.get("/api/health")
    async def health(request: Request):
        service: Service = request.app.state.service
        m = service.artifact.metadata
        return {
            "status": "ok",
            "load_state": "fallback" if service.fallback_used else "primary",
            "fallback_used": service.fallback_used,
            "fallback_reason": service.fallback_reason,
            "model": {"name": m.name, "version": m.version, "format": m.format, "input_size": m.input_size,
                      "class_names": list(m.class_names), "class_names_fr": list(m.class_names_fr),
                      "created": m.created, "labkit_version": m.labkit_version},
            "limits": {"max_upload_bytes": limits.max_upload_bytes, "max_images": limits.max_images,
                       "min_image_size": limits.min_image_size},
            "uptime_s": round(time.monotonic() - service.started, 3),
        }

    @app.post("/api/predict")
    async def predict(request: Request):
        start = time.perf_counter()
        images = await read_images(request, limits)
        result = await anyio.to_thread.run_sync(predict_images, images, request.app.state.service, limits, metrics,
                                                limiter=request.app.state.limiter)
        result["server_ms"] = round((time.perf_counter() - start) * 1000, 3)
        return JSONResponse(result)

    @app.get("/api/examples")
    async def examples(request: Request):
        return {"examples": [{key: value for key, value in example.items() if key != "png"}
                             | {"url": f"/api/examples/{example['index']}.png"} for example in request.app.state.service.examples]}

    @app.get("/api/examples/{index}.png")
    async def example_png(index: str, request: Request):
        examples = request.app.state.service.examples
        if not index.isdigit() or int(index) >= len(examples):
            raise RequestError(404, f"Exemple introuvable : les exemples vont de 0 à {len(examples) - 1}.")
        return Response(examples[int(index)]["png"], media_type="image/png", headers={"cache-control": "max-age=3600"})

    @app.get("/metrics")
    async def prometheus_metrics():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
