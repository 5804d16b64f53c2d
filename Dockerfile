# Footprints (青春足迹): one image for the web (gunicorn), the media workers (celery) and
# the one-shot migrate job. Healthchecks are declared in docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg/ffprobe for the media pipeline; fonts-wqy-zenhei for the CJK watermark
# (WATERMARK_FONT defaults to /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg fonts-wqy-zenhei poppler-utils \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 footprints \
    && useradd --system --uid 10001 --gid footprints --create-home --home-dir /home/footprints \
        --shell /usr/sbin/nologin footprints

WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY web ./web
COPY worker ./worker
COPY judging ./judging
COPY storage ./storage

# The runtime dependencies only (not the dev extra), at the versions in constraints.txt.
RUN pip install --no-cache-dir -c constraints.txt . \
    && pybabel compile -d "$(python -c 'import os, web; print(os.path.dirname(web.__file__))')/translations" \
    && rm -rf build ./*.egg-info

USER footprints

EXPOSE 8000

# --timeout 0: large uploads stream for longer than gunicorn's default 30 s worker timeout.
# 32 threads a process: a phone sending an upload part slowly holds a thread for seconds, and
# judges' pages must not queue behind those (bench/load.py: p95 2 s with 8 threads, 0.4 s with
# 32); a buffering proxy in front (nginx's default) takes that wait off gunicorn altogether.
# The logger class keeps one-time activation tokens out of the access log.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "32", "--timeout", "0", \
     "--logger-class", "web.access_log.RedactingLogger", "web:create_app()"]
