# syntax=docker/dockerfile:1
# Build: the wheel, then a venv holding it and its dependencies (all pure Python: no compiler).
FROM python:3.11.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VENV=/opt/smoke \
    WHEELS=/wheels
WORKDIR /src
COPY pyproject.toml ./
COPY smoke ./smoke
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir "$WHEELS" .
RUN python -m venv "$VENV" \
 && "$VENV/bin/pip" install --no-cache-dir "$WHEELS"/*.whl \
 && "$VENV/bin/pip" uninstall --yes pip setuptools

# Run: the venv only, no pip, no build tools, a numeric non-root user (runAsNonRoot can verify it).
FROM python:3.11.11-slim-bookworm
RUN python -m pip uninstall --yes pip setuptools wheel
COPY --from=build /opt/smoke /opt/smoke
ENV PATH=/opt/smoke/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
ENTRYPOINT ["smoke"]
CMD ["run", "--suite", "/etc/smoke/suite.yaml"]
