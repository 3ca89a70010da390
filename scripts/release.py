"""Cut a release of one package, and render RELEASES.md from RELEASES.toml.

    python scripts/release.py cut draft-store            # the version in its pyproject, at HEAD
    python scripts/release.py cut contracts --commit <sha> --notes "..."
    python scripts/release.py render                     # RELEASES.md (part of `make docs`)
    python scripts/release.py render --check             # exit 1 when RELEASES.md is stale

`cut` checks that the package's version at that commit is new (not in the record yet) and that
the checkout holds the commit's code for every package whose schemas are snapshotted (the
snapshots are written from the code that runs here); it appends the release to RELEASES.toml,
writes releases/<package>/<version>/ (contracts: every event's JSON Schema; draft-store: its
internal API) and re-renders RELEASES.md. Review, then commit the three together. The procedure
is in docs/OPERATIONS.md ("Releases").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from datetime import UTC, datetime

from bcrao_testkit.releases import (
    PACKAGES,
    RECORD,
    ROOT,
    read_record,
    snapshot_dir,
    snapshot_files,
)

TABLE = ROOT / "RELEASES.md"
# Snapshots come from these folders' code: it must be the released commit's.
SOURCES = {
    "contracts": ["libs/contracts"],
    "draft-store": ["services/draft-store", "libs/contracts", "libs/platform", "libs/rules"],
}


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def version_at(package: str, commit: str) -> str:
    text = git("show", f"{commit}:{PACKAGES[package]}/pyproject.toml")
    return str(tomllib.loads(text)["project"]["version"])


def render() -> str:
    lines = [
        "# Releases",
        "",
        "Generated from [RELEASES.toml](RELEASES.toml) by `python scripts/release.py render`",
        "(`make docs`). Each release names the full commit it was cut from; its schemas are",
        "kept under [releases/](releases/). How to cut one:",
        "[docs/OPERATIONS.md](docs/OPERATIONS.md#releases).",
        "",
        "| package | version | commit | date | notes |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(read_record(), key=lambda r: r.package):  # stable: oldest first
        lines.append(f"| {r.package} | {r.version} | `{r.commit}` | {r.date} | {r.notes} |")
    return "\n".join(lines) + "\n"


def cut(package: str, commit: str, notes: str) -> int:
    commit = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    version = version_at(package, commit)
    if any(r.package == package and r.version == version for r in read_record()):
        print(f"{package} {version} is already released: raise its version first", file=sys.stderr)
        return 1
    paths = SOURCES.get(package, [])
    if paths and git("diff", "--name-only", commit, "--", *paths):
        print(
            f"the code here differs from {commit[:12]} in {' '.join(paths)}: cut from a checkout "
            "of that commit (git worktree add), or at HEAD",
            file=sys.stderr,
        )
        return 1
    files = snapshot_files(package)
    target = snapshot_dir(package, version)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    date = datetime.fromtimestamp(int(git("show", "-s", "--format=%ct", commit)), UTC).date()
    entry = (
        f'\n[[release]]\npackage = "{package}"\nversion = "{version}"\n'
        f'commit = "{commit}"\ndate = "{date.isoformat()}"\nnotes = "{notes}"\n'
    )
    with RECORD.open("a") as out:
        out.write(entry)
    TABLE.write_text(render())
    print(f"released {package} {version} at {commit} ({len(files)} schema files)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cutting = commands.add_parser("cut", help="record a release of one package")
    cutting.add_argument("package", choices=sorted(PACKAGES))
    cutting.add_argument("--commit", default="HEAD")
    cutting.add_argument("--notes", default="")
    rendering = commands.add_parser("render", help="write RELEASES.md")
    rendering.add_argument("--check", action="store_true", help="exit 1 when it is stale")
    args = parser.parse_args()
    if args.command == "cut":
        return cut(args.package, args.commit, args.notes.replace('"', "'"))
    text = render()
    if args.check:
        if (TABLE.read_text() if TABLE.exists() else "") != text:
            print("RELEASES.md is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    TABLE.write_text(text)
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
