#!/usr/bin/env bash
# `manage.py` with the production environment of `make serve-prod` (deploy/prod-env.sh), as
# the application's role: `deploy/manage-prod.sh createsuperuser`, `… my_number_rotate`,
# `… audit_verify`. OWNER=1 connects as the owner of the tables instead (migrate, db_roles).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/prod-env.sh
. deploy/prod-env.sh
if [ "${OWNER:-}" != "1" ]; then export DATABASE_USER=$APP_USER; fi
exec "$PY" manage.py "$@"
