# embedguard: docker build -t embedguard . && docker run -p 8000:8000 \
#   -e EMBEDGUARD_SECRET_KEYS=... -v embedguard-data:/data embedguard

# Build stage: the wheel and its dependencies, so no build tooling lands in the image.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
COPY templates/ templates/
COPY static/ static/
RUN pip install --prefix=/install .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EMBEDGUARD_DATA_DIR=/data
COPY --from=build /install /usr/local
RUN groupadd --system --gid 10001 embedguard \
    && useradd --system --uid 10001 --gid embedguard --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin embedguard \
    && mkdir /data \
    && chown embedguard:embedguard /data
# The SQLite database and the poster cache live here; keep it on a volume.
VOLUME ["/data"]
USER embedguard
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["embedguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
