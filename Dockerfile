# One process: the aiohttp server and the Telegram bot. SQLite lives in /app/data (mount a volume).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY webhooks ./webhooks
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip install . && useradd --create-home shop && mkdir -p /app/data && chown shop /app/data

USER shop
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/healthz')"
CMD ["python", "-m", "bot"]
