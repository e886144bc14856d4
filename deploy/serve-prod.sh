#!/usr/bin/env bash
# The production stack without Docker, on this machine (`make serve-prod`): gunicorn
# (config/gunicorn.py, gthread), one Celery worker and one Celery beat, with production
# settings, against the PostgreSQL of DATABASE_URL and the Redis of REDIS_URL.
#
# Secrets are files, as in docker-compose.yml: SERVE_PROD_SECRETS (default var/prod-secrets,
# made by deploy/make_secrets.py when missing). Runs in the foreground; Ctrl-C or SIGTERM stops all
# three gracefully (gunicorn finishes its requests, Celery its tasks); if one of them exits,
# the others are stopped too and the script exits with its status.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/prod-env.sh
. deploy/prod-env.sh
BIN=$(dirname "$PY")
LOGS=${SERVE_PROD_LOGS:-var/log/serve-prod}
mkdir -p "$LOGS" var/beat
export GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:${PORT:-8000}}
export GUNICORN_ACCESS_LOG=${GUNICORN_ACCESS_LOG:-$LOGS/access.log}
export DATABASE_POOL_MAX=${DATABASE_POOL_MAX:-12}

if [ "${SERVE_PROD_SKIP_MIGRATE:-}" != "1" ]; then
  echo "serve-prod: migrate, db_roles, collectstatic (as the owner)"
  "$PY" manage.py migrate --noinput >"$LOGS/migrate.log" 2>&1 || { cat "$LOGS/migrate.log"; exit 1; }
  "$PY" manage.py db_roles
fi
"$PY" manage.py collectstatic --noinput >"$LOGS/collectstatic.log" 2>&1

export DATABASE_USER=$APP_USER
pids=()
stop() {
  trap - TERM INT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap 'stop; exit 0' TERM INT

"$BIN/gunicorn" -c config/gunicorn.py config.wsgi >>"$LOGS/web.log" 2>&1 &
pids+=($!)
"$BIN/celery" -A config worker --loglevel=INFO --concurrency="${WORKER_CONCURRENCY:-2}" \
  --prefetch-multiplier=1 -n "serve-prod-$$@%h" >>"$LOGS/worker.log" 2>&1 &
pids+=($!)
"$BIN/celery" -A config beat --loglevel=INFO \
  --schedule "var/beat/celerybeat-schedule-$$" >>"$LOGS/beat.log" 2>&1 &
pids+=($!)
echo "serve-prod: web http://$GUNICORN_BIND/ (pids ${pids[*]}), logs in $LOGS"

set +e
wait -n
status=$?
echo "serve-prod: a process exited ($status); stopping the others" >&2
stop
exit "$status"
