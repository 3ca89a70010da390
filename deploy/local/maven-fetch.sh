# Sourced by kafka.sh and languagetool.sh: copy a pom's runtime jars from Maven into a folder,
# once. The folder's `.fetched` marker names the version that resolved and the pom's hash, so a
# changed pom fetches again and an interrupted fetch is never taken for a complete one.
#
#   maven_fetch <label> <pom> <libs dir> <version property> <jar glob that proves it> <log> <versions…>
#
# The versions are tried in order (the first one the registry serves wins). Progress goes to
# stderr; returns 1, with the log's tail, when none resolved.
maven_fetch() {
  local label=$1 pom=$2 libs=$3 property=$4 proof=$5 log=$6 want v
  shift 6
  want="pom=$(sha256sum "$pom" | cut -c1-16)"
  if [[ -f $libs/.fetched ]] && grep -qx "$want" "$libs/.fetched" \
      && compgen -G "$libs/$proof" >/dev/null; then
    return 0
  fi
  if ! command -v mvn >/dev/null; then
    echo "$label: ERROR: mvn (Maven) is needed to fetch the $label jars (apt-get install maven)" >&2
    return 1
  fi
  rm -rf "$libs" && mkdir -p "$libs"
  for v in "$@"; do
    echo "fetching $label $v jars with Maven into $libs" >&2
    if mvn -q -B -f "$pom" dependency:copy-dependencies -D"$property=$v" \
        -DoutputDirectory="$libs" -DincludeScope=runtime >"$log" 2>&1; then
      printf 'version=%s\n%s\n' "$v" "$want" >"$libs/.fetched"
      echo "$label $v: $(find "$libs" -name "*.jar" | wc -l) jars" >&2
      return 0
    fi
    echo "$label $v did not resolve (see $log)" >&2
    rm -rf "$libs" && mkdir -p "$libs"
  done
  tail -n 20 "$log" >&2
  echo "$label: ERROR: could not fetch $label (tried $*)" >&2
  return 1
}
