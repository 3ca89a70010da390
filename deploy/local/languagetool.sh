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

fingerprint() { sha256sum "$POM" | cut -c1-16; }

fetch() {
  local marker="$LIBS/.fetched" want v
  want="pom=$(fingerprint)"
  if [[ -f $marker ]] && grep -qx "$want" "$marker" \
      && compgen -G "$LIBS/languagetool-server-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn (Maven) is needed to fetch the LanguageTool jars (apt-get install maven)"
  command -v java >/dev/null || die "java (17+) is needed to run LanguageTool"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  for v in "${VERSIONS[@]}"; do
    say "fetching LanguageTool $v jars with Maven into $LIBS"
    if mvn -q -B -f "$POM" dependency:copy-dependencies -Dlanguagetool.version="$v" \
        -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$LTDIR/fetch.log" 2>&1; then
      printf 'version=%s\n%s\n' "$v" "$want" >"$marker"
      say "LanguageTool $v: $(find "$LIBS" -name "*.jar" | wc -l) jars"
      return 0
    fi
    say "LanguageTool $v did not resolve (see $LTDIR/fetch.log)"
    rm -rf "$LIBS" && mkdir -p "$LIBS"
  done
  tail -n 20 "$LTDIR/fetch.log" >&2
  die "could not fetch LanguageTool (tried ${VERSIONS[*]})"
}

case "${1:-}" in
  fetch) fetch ;;
  classpath) fetch; echo "$LIBS/*" ;;
  *) echo "usage: $0 fetch|classpath" >&2; exit 2 ;;
esac
