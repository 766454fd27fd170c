#!/bin/sh
# The postgres image runs this once, on an empty data directory (deploy/compose.yaml): the
# owner role (migrations and grants), the runtime role (web and scheduler) and the database.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$OWNER_PASSWORD" -v app_password="$APP_PASSWORD" <<'SQL'
CREATE ROLE collective_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE collective_app LOGIN PASSWORD :'app_password';
CREATE DATABASE collective OWNER collective_owner;
SQL
