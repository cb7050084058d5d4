#!/usr/bin/env bash
# Build the offline installer: one .tgz with a top folder harbor/ that holds install.sh,
# harbor.cfg.example, harbor.yml.example, README.md, harborctl as a wheel, the wheels of every
# runtime dependency for CPython 3.9-3.13 on x86_64 and aarch64 (manylinux2014 /
# manylinux_2_17), and the images tarball harbor.vX.Y.Z.tar.gz with its image list. install.sh
# in it installs from those wheels with --no-index: the host it is unpacked on needs no package
# index.
#
#   scripts/make-bundle.sh --images harbor.v1.7.5.tar.gz [--output DIR] [--wheel-cache DIR]
#
# Runs where PyPI is reachable (pip download; the harborctl wheel's build backend). Downloaded
# wheels are kept in --wheel-cache (default /tmp/harborctl-bundle-wheels), in a folder named by a
# hash of harborctl's dependency list and the targets, with the versions chosen in wheels.lock: a
# re-run with the same list downloads nothing (remove the folder to take newer releases).
# Environment: PYTHON (the interpreter whose pip builds and downloads; default python3).
set -euo pipefail

PYTHON_VERSIONS=(3.9 3.10 3.11 3.12 3.13)
ARCHITECTURES=(x86_64 aarch64)

usage() {
  echo "usage: $0 --images harbor.vX.Y.Z.tar.gz [--output DIR] [--wheel-cache DIR]" >&2
  exit 2
}

# The dependency list of pyproject.toml, one requirement a line (the wheel cache's key with the
# targets: the same list resolves to the same wheels while the cache lives).
dependency_lines() {
  sed -n '/^dependencies = \[/,/^\]/p' "$1/pyproject.toml" | grep -o '"[^"]*"' | tr -d '"'
}

# Download every dependency wheel for every target into $2 (nothing to do when $2/.complete
# exists), given the harborctl wheel $1 whose metadata names them. The first target's resolution
# (the oldest Python) becomes $2/wheels.lock, the constraint of every other target: one version
# of each package in the bundle, where the newest releases would differ per Python.
download_wheels() {
  local wheel="$1" cache="$2" python_version arch constraint=()
  [ -f "$cache/.complete" ] && { echo "Dependency wheels: cached in $cache"; return 0; }
  mkdir -p "$cache"
  for python_version in "${PYTHON_VERSIONS[@]}"; do
    for arch in "${ARCHITECTURES[@]}"; do
      echo "Dependency wheels: CPython $python_version, $arch"
      "$PYTHON" -m pip download --quiet --disable-pip-version-check --dest "$cache" \
        --only-binary=:all: --implementation cp --python-version "$python_version" \
        --platform "manylinux2014_$arch" --platform "manylinux_2_17_$arch" \
        "${constraint[@]}" "$wheel" || {
          echo "Error: no wheels for CPython $python_version on $arch (see pip's output above)." >&2
          return 1
        }
      if [ ${#constraint[@]} = 0 ]; then
        (cd "$cache" && ls -1 *.whl | grep -v '^harborctl-' | cut -d- -f1,2 | sed 's/-/==/') \
          > "$cache/wheels.lock"
        constraint=(--constraint "$cache/wheels.lock")
      fi
    done
  done
  rm -f "$cache"/harborctl-*.whl
  touch "$cache/.complete"
}

main() {
  local source images="" output="" cache_root="/tmp/harborctl-bundle-wheels"
  source="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  output="$source/dist"
  while [ $# -gt 0 ]; do
    case "$1" in
      --images) images="${2:-}"; shift 2 ;;
      --output) output="${2:-}"; shift 2 ;;
      --wheel-cache) cache_root="${2:-}"; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -n "$images" ] || usage
  [ -f "$images" ] || { echo "Error: the images tarball $images does not exist." >&2; exit 1; }
  PYTHON="${PYTHON:-python3}"

  local version release top stage key cache name archive
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$source/pyproject.toml")"
  release="$(basename "$images")"
  case "$release" in
    harbor.v*.tar.gz) release="${release#harbor.}"; release="${release%.tar.gz}" ;;
    *) echo "Error: $images is not named harbor.vX.Y.Z.tar.gz." >&2; exit 1 ;;
  esac
  name="harbor-offline-installer-$release-harborctl-$version"
  mkdir -p "$output"
  stage="$(mktemp -d "$output/.bundle.XXXXXX")"
  STAGE="$stage"
  trap 'rm -rf "$STAGE"' EXIT
  top="$stage/harbor"
  mkdir -p "$top/wheels"

  echo "harborctl $version: building its wheel"
  "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$top/wheels" \
    "$source"
  local wheel
  wheel="$(ls "$top"/wheels/harborctl-*.whl)"
  key="$( { dependency_lines "$source"; echo "${PYTHON_VERSIONS[*]}" "${ARCHITECTURES[*]}"; } \
    | sha256sum | cut -c1-16)"
  cache="$cache_root/$key"
  download_wheels "$wheel" "$cache"
  cp "$cache"/*.whl "$cache/wheels.lock" "$top/wheels/"

  cp "$source/install.sh" "$source/harbor.cfg.example" "$source/harbor.yml.example" \
    "$source/README.md" "$top/"
  cp "$images" "$top/"
  # A whole-second mtime survives tar, so the image list written beside the tarball (keyed by
  # size and mtime) still holds once unpacked: the first install does not decompress it to look.
  touch -d "@$(date +%s)" "$top/$(basename "$images")"
  (cd "$top" && PYTHONPATH="$source" "$PYTHON" -c '
import sys
from pathlib import Path
from harborctl.engine.images.inventory import bundle_image_ids
ids = bundle_image_ids(Path(sys.argv[1]))
print(f"Images: {len(ids)} in {sys.argv[1]}")
' "$(basename "$images")")
  (cd "$top" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum \
    > SHA256SUMS)

  archive="$output/$name.tgz"
  tar -C "$stage" -czf "$archive.partial" harbor
  mv "$archive.partial" "$archive"
  echo "Bundle: $archive ($(du -h "$archive" | cut -f1), $(ls "$top/wheels" | grep -c '\.whl$') wheels)"
}

main "$@"
