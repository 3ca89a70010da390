#!/usr/bin/env bash
# LanguageTool (the grammar checker `make eval` and the evaluation test use), offline, from the
# Maven Central jars, fetched the way kafka.sh fetches the Kafka jars.
#
#   languagetool.sh fetch       copy the server and English jars into $STATE/languagetool/libs
#                               (Maven, only when missing)
#   languagetool.sh classpath   fetch, then print the classpath to start the server with
#
# The server itself is started by the evaluation (bcrao_generator.languagetool) on a free
# 127.0.0.1 port and stopped when it is done; nothing here keeps a process running.
# Env: BCRAO_STATE_DIR (default <repo>/.state), LANGUAGETOOL_VERSION (try only this version).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$(realpath -m "${BCRAO_STATE_DIR:-$ROOT/.state}")"
LTDIR="$STATE/languagetool"
LIBS="$LTDIR/libs"
POM="$HERE/languagetool/pom.xml"
read -ra VERSIONS <<<"${LANGUAGETOOL_VERSION:-6.6 6.5 6.4}"

say() { echo "languagetool: $*" >&2; }
die() { echo "languagetool: ERROR: $*" >&2; exit 1; }

# shellcheck source=deploy/local/maven-fetch.sh
. "$HERE/maven-fetch.sh"
fetch() {
  command -v java >/dev/null || die "java (17+) is needed to run LanguageTool"
  maven_fetch LanguageTool "$POM" "$LIBS" languagetool.version 'languagetool-server-*.jar' \
    "$LTDIR/fetch.log" "${VERSIONS[@]}" || exit 1
}

case "${1:-}" in
  fetch) fetch ;;
  classpath) fetch; echo "$LIBS/*" ;;
  *) echo "usage: $0 fetch|classpath" >&2; exit 2 ;;
esac
