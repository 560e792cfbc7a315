# The node-placeholder-scaler controller image.
#
#   docker build -t node-placeholder-scaler:0.1.0 .
#
# Two stages: `build` installs the pinned requirements (wheels only: no compiler needed) and
# our package into a virtualenv; the final stage copies that virtualenv onto a fresh slim
# Python and runs it as a non-root user. tests/helm/test_image_steps.py runs the RUN lines
# between the "install steps" markers in a fresh venv, so they are tested without a Docker
# engine; tests/delivery/test_image.py builds this file for real (scripts/image) and runs the
# result read-only as UID 10001. Pin the base image by digest in your own builds:
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:... .
# Where Docker Hub cannot be reached, any Debian bookworm image with python3 and python3-venv
# serves as PYTHON_IMAGE (scripts/image makes one with mmdebstrap).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/node-placeholder-scaler
WORKDIR /src
# >>> install steps
COPY requirements.txt ./
RUN python -m venv "$VIRTUAL_ENV"
# requirements.txt is the complete pinned set (pip-compile): no resolution, wheels only.
RUN "$VIRTUAL_ENV/bin/pip" install --no-deps --only-binary=:all: -r requirements.txt
COPY pyproject.toml README.m[d] ./
COPY node_placeholder_scaler ./node_placeholder_scaler
RUN "$VIRTUAL_ENV/bin/pip" install --no-deps . && "$VIRTUAL_ENV/bin/pip" check
RUN "$VIRTUAL_ENV/bin/node-placeholder-scaler" --help > /dev/null
# <<< install steps
# The runtime needs neither pip nor setuptools (25 MB), nor kubernetes.aio (66 MB: the client's
# asyncio twin, which the controller never imports; tests/delivery imports every module of ours
# in the built image).
RUN "$VIRTUAL_ENV/bin/python" -m pip uninstall --yes --quiet pip setuptools \
    && rm -rf "$VIRTUAL_ENV"/lib/python3.*/site-packages/kubernetes/aio

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="node-placeholder-scaler" \
      org.opencontainers.image.description="Scales node-sized placeholder pods from a course calendar" \
      org.opencontainers.image.licenses="BSD-3-Clause"
# tzdata: the IANA zones for calendars (zoneinfo also finds the pinned tzdata wheel).
# ca-certificates: HTTPS feeds. Nothing else: no compilers, no package lists left behind.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 nps \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin nps
COPY --from=build /opt/node-placeholder-scaler /opt/node-placeholder-scaler
ENV PATH=/opt/node-placeholder-scaler/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -c "import zoneinfo; zoneinfo.ZoneInfo('Europe/Zurich')" \
    && node-placeholder-scaler --help > /dev/null
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node-placeholder-scaler"]
CMD ["run", "--config", "/etc/node-placeholder-scaler/config.yaml"]
