# Test-only stand-in for the emulators and observability images compose names, which cannot be
# pulled where no image registry is reachable (tests/containers/test_compose.py says which).
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}
ARG MOTO_VERSION=5.2.5
RUN pip install --no-cache-dir "moto[server]==${MOTO_VERSION}"
USER 10001:10001
ENTRYPOINT ["moto_server", "--host", "0.0.0.0"]
CMD ["--port", "5000"]
