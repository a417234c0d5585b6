# Concord hub image: the API (`hub serve`), the Celery worker and Celery beat
# all run from this one image; docker-compose.yml picks the command.
# No secrets are baked in: HUB_SECRET_KEY, HUB_DATABASE_URL, ... come from the
# environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The source (see .dockerignore for what stays out), installed as a regular
# (non-editable) package: every dependency ships wheels, no compiler needed.
COPY . /app
RUN pip install . \
 && useradd --system --create-home --uid 10001 --user-group hub \
 && mkdir -p /app/var \
 && chown hub:hub /app/var

# Run as an unprivileged user; ./var is its only writable place in /app.
USER hub

EXPOSE 8000
CMD ["hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
