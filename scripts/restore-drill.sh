#!/usr/bin/env bash
# A restore drill: dump a database with pg_dump, restore the dump into a scratch database,
# check the restored ledger with `flask ledger check`, and compare every table's row count.
# Exit 0 only if the restore is complete and its books balance.
#
#   scripts/restore-drill.sh SOURCE_URL SCRATCH_DB [DUMP_FILE]
#
# SOURCE_URL is a libpq URL (postgresql://user@host:5432/collective); the drill connects as
# that user, which must be allowed to create and drop SCRATCH_DB. SCRATCH_DB is dropped
# first if it exists, and kept afterwards for a look (drop it yourself). The dump is kept
# in DUMP_FILE (default: a temporary file, removed at the end).
set -euo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
source_url=$1
scratch=$2
dump=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
flask="${FLASK:-$here/.venv/bin/flask} --app collective"

if [[ -z $dump ]]; then
    dump=$(mktemp --suffix=.dump)
    trap 'rm -f "$dump"' EXIT
fi
# The same server and user, another database: swap the path of the URL.
scratch_url="${source_url%/*}/$scratch"
source_db="${source_url##*/}"
source_db="${source_db%%\?*}"
if [[ $scratch == "$source_db" ]]; then
    echo "the scratch database must not be the source" >&2
    exit 2
fi

row_counts() {
    { # Every table of the public schema with its exact row count, one "table count" a line.
    psql --no-psqlrc --quiet --tuples-only --no-align --field-separator=' ' "$1" <<'SQL'
SELECT table_name,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM public.%I', table_name),
                           false, true, '')))[1]::text::bigint
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name;
SQL
    } | LC_ALL=C sort  # the order join(1) expects, whatever the server's collation
}


echo "== dump $source_db"
started=$(date +%s)
counts_before=$(row_counts "$source_url")
pg_dump --format=custom --file="$dump" "$source_url"
counts_after=$(row_counts "$source_url")
echo "dump: $(du -h "$dump" | cut -f1) in $(( $(date +%s) - started )) s"

echo "== restore into $scratch"
started=$(date +%s)
psql --no-psqlrc --quiet "${source_url%/*}/postgres" \
    -c "DROP DATABASE IF EXISTS \"$scratch\"" -c "CREATE DATABASE \"$scratch\""
# --exit-on-error: a restore that is only partly done must fail the drill. The copy belongs
# to the drill's user, without the source's grants (its roles may not exist here).
pg_restore --exit-on-error --no-owner --no-acl --dbname="$scratch_url" "$dump"
echo "restore: $(( $(date +%s) - started )) s"

echo "== flask ledger check on $scratch"
DATABASE_URL="$scratch_url" COLLECTIVE_ENV="${COLLECTIVE_ENV:-production}" \
    SECRET_KEY="${SECRET_KEY:-restore-drill}" \
    RATELIMIT_STORAGE_URI="${RATELIMIT_STORAGE_URI:-memory://}" $flask ledger check

echo "== row counts, $source_db against $scratch"
# pg_dump reads one snapshot; on a live source a table may change while it runs, so each
# restored count must lie between the source's counts before and after the dump.
restored=$(row_counts "$scratch_url")
if ! report=$(LC_ALL=C join -a1 -a2 -e missing -o 0,1.2,2.2 <(echo "$counts_before") \
        <(echo "$counts_after") | LC_ALL=C join -a1 -a2 -e missing -o 0,1.2,1.3,2.2 - <(echo "$restored") |
        awk '{ lo = $2 < $3 ? $2 : $3; hi = $2 < $3 ? $3 : $2
               if ($4 == "missing" || $2 == "missing" || $4 < lo || $4 > hi) {
                   print "  " $1 ": source " $2 " (" $3 " after the dump), restored " $4; bad = 1 }
               tables++; rows += $4 }
             END { if (!bad) print "row counts match: " tables " tables, " rows " rows"
                   exit bad }'); then
    echo "row counts differ:" >&2
    echo "$report" >&2
    exit 1
fi
echo "$report"
if [[ $counts_before != "$counts_after" ]]; then
    echo "(the source changed during the dump; each count lies between its before and after)"
fi
echo "restore drill passed"
