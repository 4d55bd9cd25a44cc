# embedguard in a container. Build: docker build -t embedguard .
#   podman: podman build --format docker -t embedguard .   (the OCI format drops HEALTHCHECK)
# Run (behind a proxy on the host that connects to 127.0.0.1:8000):
#   docker run -d -p 127.0.0.1:8000:8000 -v embedguard-data:/data \
#     -v /etc/embedguard/keys:/run/secrets/embedguard_keys:ro \
#     -e EMBEDGUARD_PUBLIC_URL=https://einbettung.example.de embedguard
# With nginx in a container too: deploy/compose.yaml. Guide: deploy/README.md.

# Build stage: the wheel and its pinned dependencies, so no build tooling lands in the image.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY src/ src/
COPY templates/ templates/
COPY static/ static/
# The postgresql extra (psycopg) lets several containers share one PostgreSQL database.
RUN pip install --prefix=/install -c constraints.txt '.[postgresql]'

FROM python:3.11-slim-bookworm
# FORWARDED_ALLOW_IPS: whose X-Forwarded-For/-Proto uvicorn believes (Secure cookies, login
# throttling per client). The default covers a proxy on a private container network or the
# host's bridge; narrow it to your proxy's address, and never publish port 8000 publicly.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EMBEDGUARD_DATA_DIR=/data \
    EMBEDGUARD_SECRET_KEYS_FILE=/run/secrets/embedguard_keys \
    FORWARDED_ALLOW_IPS=127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7
COPY --from=build /install /usr/local
RUN groupadd --system --gid 10001 embedguard \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin embedguard \
    && install -d -m 0700 -o 10001 -g 10001 /data
# The SQLite database and the poster cache live here; keep it on a volume.
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["embedguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
