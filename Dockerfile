# One process: the aiohttp server and the Telegram bot. SQLite lives in /app/data (mount a volume).
# Production only: the sandbox (stand-ins and play page), the tests and the bench stay out of the
# image, and SANDBOX=0 makes a missing setting the usual list of problems instead of an attempt
# to start a sandbox that is not there (tests/test_production_imports.py checks both).
# Reproducible: an exact base image tag, and every dependency installed at the exact version and
# hash in requirements.lock (refresh it with `make lock`, see README). The project itself runs
# from /app as copied, so nothing is resolved or downloaded beyond the lock.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SANDBOX=0
WORKDIR /app

COPY requirements.lock ./
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock \
    && useradd --create-home shop && mkdir -p /app/data && chown shop /app/data

COPY bot ./bot
COPY shop ./shop
COPY webhooks ./webhooks
COPY storage ./storage
# The shop's languages: the translations as committed, compiled here (Babel's pybabel comes with
# the lock), so the image speaks every shipped language whatever the build folder holds.
COPY locales ./locales
RUN pybabel compile -d locales -D messages

USER shop
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/healthz')"
CMD ["python", "-m", "bot"]
