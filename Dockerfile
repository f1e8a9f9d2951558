# Service labkit : un classifieur ONNX derrière FastAPI (python -m labkit.serve).
#
#   docker build -t labkit-serve .
#   docker run --rm -p 8000:8000 -v "$PWD/models:/models:ro" labkit-serve
#
# /models contient les artefacts écrits par labkit.serve.export_classifier :
# pcb-int8.onnx (principal) et pcb-fp32.onnx (secours, utilisé si le principal ne se charge pas).
# Le service n'a besoin ni de PyTorch ni du paquet onnx : seulement l'extra « serve ».
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_NUM_THREADS=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY labkit ./labkit
RUN pip install ".[serve]"

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin labkit \
    && mkdir -p /models \
    && chown labkit:labkit /models
USER labkit
VOLUME ["/models"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"]

CMD ["python", "-m", "labkit.serve", "--model", "/models/pcb-int8.onnx", "--fallback", "/models/pcb-fp32.onnx", "--host", "0.0.0.0", "--port", "8000"]
