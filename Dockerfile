# The production image of Madoguchi: web (gunicorn), worker and beat run this one image.
# Built from the lock (uv.lock, `uv sync --locked`, no dev dependencies) with the source copied
# in: nothing is mounted at run time. Static files are collected at build time.
#
#   docker build -t madoguchi .
#
# System packages: what WeasyPrint needs and the IPAex fonts the letters use.
FROM python:3.11-slim-bookworm AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-ipaexfont postgresql-client \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH

FROM base AS build
RUN pip install --no-cache-dir "uv==0.13.9"
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

FROM base
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin madoguchi
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . .
# collectstatic reads the settings, which in production want every secret: build-only values,
# never used at run time (the real ones come from /run/secrets).
RUN MADOGUCHI_ENV=production \
    SECRET_KEY=build-only-not-a-secret-0000000000000000000000 \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build REDIS_URL=redis://build \
    MY_NUMBER_KEYS=b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= MY_NUMBER_ACTIVE_KEY_ID=b \
    MY_NUMBER_INDEX_KEY=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= \
    python manage.py collectstatic --noinput \
 && mkdir -p var/media var/beat && chown -R madoguchi var/media var/beat
USER madoguchi
ENV MADOGUCHI_ENV=production
EXPOSE 8000
# Probes (docker-compose.yml): /healthz (the process answers), /readyz (database and broker).
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
