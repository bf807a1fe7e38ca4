#!/usr/bin/env bash
# Set up the ORIGINAL STMGAC research code (wenwenmin/STMGAC) for run_stmgac_original.py:
#   benchmarks/.envs/stmgac_original_src/  copy of the repo's STMGAC/ and Config/ folders
#   benchmarks/.envs/stmgac_original/      virtual environment (CPU torch + PyG + faiss + scanpy)
# Both are git-ignored; the original code never enters the project.
#
# Usage: bash benchmarks/peers/setup_stmgac_original.sh [SOURCE]
#   SOURCE: a git clone or bare mirror of wenwenmin/STMGAC (commit $STMGAC_COMMIT is archived
#           from it), or a folder that already holds STMGAC/ and Config/. It is needed only while
#           the source copy is missing or is not of $STMGAC_COMMIT (it cannot be downloaded here).
# Env:    PYTHON (default python3.11), PEER_ENVS_DIR (default benchmarks/.envs),
#         STMGAC_COMMIT (default the audited HEAD 86c4a40).
# Idempotent: a source copy whose SOURCE_COMMIT matches, and a venv whose marker .complete
# matches the pins below and whose modules import, are kept.
#
# Pins verified with Python 3.11 on CPU (DLPFC 151673-151675, 500 epochs). The repo's own
# environment was torch 2.2.2+cu118, torch_geometric 2.5.2 (+ torch_sparse/torch_scatter),
# faiss-cpu 1.8.0, scanpy 1.10.1. Here: torch 2.13.0 CPU (installed first, alone: an unpinned
# torch pulls a multi-GB CUDA build) and torch_geometric 2.8.1 without the optional compiled
# extensions; GCNConv still sends the original's torch.sparse COO adjacency through gcn_norm's
# torch-sparse branch (gcn_conv.py is identical in 2.5.2 and 2.8.1). scikit-misc is needed by
# scanpy's seurat_v3 HVG flavour.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENVS="${PEER_ENVS_DIR:-$HERE/../.envs}"
PYTHON="${PYTHON:-python3.11}"
COMMIT="${STMGAC_COMMIT:-86c4a40302dc7906ae7437ede61d092683342e3e}"
SRC_DIR="$ENVS/stmgac_original_src"
ENV_DIR="$ENVS/stmgac_original"
TORCH="torch==2.13.0"
PINS="$TORCH torch_geometric==2.8.1 faiss-cpu==1.15.1 scanpy==1.11.5 anndata==0.12.19"
PINS+=" numpy==2.4.6 scipy==1.17.1 pandas==2.3.3 scikit-learn==1.9.1 scikit-misc==0.5.3"
PINS+=" pyyaml==6.0.3 tqdm==4.70.1"
MODULES="torch, torch_geometric, faiss, scanpy, skmisc, sklearn, yaml, tqdm"

setup_source() {
    local source="${1:-}"
    if [[ -f "$SRC_DIR/STMGAC/MGAC.py" && -f "$SRC_DIR/SOURCE_COMMIT" \
        && "$(cat "$SRC_DIR/SOURCE_COMMIT")" == "$COMMIT" ]]; then
        echo "[source] $SRC_DIR is at $COMMIT, kept"
        return 0
    fi
    if [[ -z "$source" ]]; then
        echo "[source] missing or stale: give a clone/mirror of wenwenmin/STMGAC as argument" >&2
        return 1
    fi
    local tmp
    tmp="$(mktemp -d "$ENVS/.stmgac_src.XXXXXX")"
    if git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
        echo "[source] archiving $COMMIT from $source"
        git -C "$source" archive "$COMMIT" STMGAC Config | tar -x -C "$tmp"
        echo "$COMMIT" >"$tmp/SOURCE_COMMIT"
    elif [[ -f "$source/STMGAC/MGAC.py" && -d "$source/Config" ]]; then
        echo "[source] copying STMGAC/ and Config/ from $source (commit not checked)"
        cp -r "$source/STMGAC" "$source/Config" "$tmp/"
        echo "$COMMIT" >"$tmp/SOURCE_COMMIT"
    else
        rm -rf "$tmp"
        echo "[source] $source is neither a git repository nor an STMGAC checkout" >&2
        return 1
    fi
    rm -rf "$tmp/STMGAC/__pycache__"  # the repo commits stale .pyc files
    rm -rf "$SRC_DIR"
    mv "$tmp" "$SRC_DIR"
    echo "[source] ready: $SRC_DIR"
}

env_ok() {
    [[ -x "$ENV_DIR/bin/python" && -f "$ENV_DIR/.complete" ]] || return 1
    [[ "$(cat "$ENV_DIR/.complete")" == "$PINS" ]] || return 1
    OMP_NUM_THREADS=1 "$ENV_DIR/bin/python" -c "import $MODULES" >/dev/null 2>&1
}

setup_env() {
    if env_ok; then
        echo "[venv] complete, skipped ($ENV_DIR)"
        return 0
    fi
    echo "[venv] building $ENV_DIR"
    rm -rf "$ENV_DIR"
    "$PYTHON" -m venv "$ENV_DIR"
    local pip=("$ENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check)
    echo "[venv] pip install $TORCH"
    "${pip[@]}" "$TORCH"
    echo "[venv] pip install $PINS"
    # shellcheck disable=SC2086  # pins are whitespace-separated requirement specifiers
    "${pip[@]}" $PINS
    OMP_NUM_THREADS=1 "$ENV_DIR/bin/python" -W ignore -c "import $MODULES"
    echo "$PINS" >"$ENV_DIR/.complete"
    echo "[venv] done: $("$ENV_DIR/bin/python" -m pip freeze 2>/dev/null | wc -l) packages"
}

mkdir -p "$ENVS"
setup_source "${1:-}"
setup_env
echo "STMGAC original ready: STMGAC_ORIGINAL_SRC=$SRC_DIR, python $ENV_DIR/bin/python"
