# Loket server image: `docker build -t loket .` then `docker run loket serve` and `docker run loket worker` (see docker-compose.yml).
# Configuration comes from the environment only: LOKET_DATABASE_URL, LOKET_REDIS_URL,
# LOKET_SECRET_KEY, LOKET_PUBLIC_URL, LOKET_DATA_DIR (default /data here).

# --- build: turn the source tree into a wheel (local clutter such as .venv never reaches the image)
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN rm -rf build ./*.egg-info \
 && pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

# --- runtime
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOKET_DATA_DIR=/data
# espeak-ng renders the voice calls ("nomor antrean ... ke loket ...").
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
# The server set only (loket[server], pyproject.toml): no OpenCV, QR decoders, serial or
# printer libraries, no card stack; those are the station PCs' (loket[station]).
RUN pip install --no-cache-dir "$(echo /wheels/loket-*.whl)[server]" && rm -rf /wheels
RUN useradd --system --create-home --uid 10001 --user-group loket \
 && mkdir -p /data && chown loket:loket /data
USER loket
WORKDIR /home/loket
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["loket"]
CMD ["serve"]
