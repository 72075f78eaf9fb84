# syntax=docker/dockerfile:1
# scimgate: docs/how-to/deploy.md describes building and running this image.

# Build stage: resolve the locked dependencies and the project into a virtualenv.
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/scimgate

RUN pip install 'uv>=0.13,<0.14'

WORKDIR /src
# Dependencies first, from the lock alone, so a source change reuses this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the virtualenv and the entrypoint, no build tools.
FROM python:3.11-slim

ENV PATH=/opt/scimgate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCIMGATE_DATABASE_URL=sqlite:////var/lib/scimgate/scimgate.db

RUN groupadd --system --gid 10001 scimgate \
    && useradd --system --uid 10001 --gid scimgate --home-dir /var/lib/scimgate \
       --shell /usr/sbin/nologin scimgate \
    && mkdir -p /var/lib/scimgate \
    && chown scimgate:scimgate /var/lib/scimgate

COPY --from=builder /opt/scimgate /opt/scimgate
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/scimgate-entrypoint

USER scimgate
WORKDIR /var/lib/scimgate
VOLUME ["/var/lib/scimgate"]
EXPOSE 8000

# slim has no curl: ask /healthz with the interpreter the image already holds.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["scimgate-entrypoint"]
CMD []
