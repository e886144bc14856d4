# The production environment of `make serve-prod` (deploy/serve-prod.sh) and of
# `deploy/manage-prod.sh`, so that a management command sees exactly what the servers see.
# Sourced, not run. Needs DATABASE_URL and REDIS_URL; SERVE_PROD_SECRETS names the secret files
# (default var/prod-secrets, made by deploy/make_secrets.py when missing).
: "${DATABASE_URL:?DATABASE_URL must name the database (the owner connects for migrate)}"
: "${REDIS_URL:?REDIS_URL must name the Redis database}"
PY=${PY:-.venv/bin/python}
SECRETS=${SERVE_PROD_SECRETS:-var/prod-secrets}
[ -f "$SECRETS/secret_key" ] || "$PY" deploy/make_secrets.py "$SECRETS" >/dev/null

export MADOGUCHI_ENV=production
export SECRET_KEY_FILE=$SECRETS/secret_key
export MY_NUMBER_KEYS_FILE=$SECRETS/my_number_keys
export MY_NUMBER_ACTIVE_KEY_ID_FILE=$SECRETS/my_number_active_key_id
export MY_NUMBER_INDEX_KEY_FILE=$SECRETS/my_number_index_key
# While SECRET_KEY is being rotated (README "Key rotation (SECRET_KEY)"): the earlier keys.
if [ -f "$SECRETS/secret_key_fallbacks" ]; then
  export SECRET_KEY_FALLBACKS_FILE=$SECRETS/secret_key_fallbacks
fi
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
# No TLS proxy on the loopback: no redirect to https (the cookies stay Secure).
export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-false}
export LOG_FORMAT=${LOG_FORMAT:-json}
APP_USER=${APP_DATABASE_USER:-madoguchi_app}
