#!/usr/bin/env bash
# Virtual environments of the deconvolution peers that cannot share stmin's environment:
# benchmarks/.envs/deconv-tangram and benchmarks/.envs/deconv-cell2location (git-ignored).
# DestVI, Stereoscope and NNLS run in the project's own environment (scvi-tools 1.4.2).
#
# Usage: bash benchmarks/peers/setup_deconv_envs.sh [tangram] [cell2location]
# Env:   PYTHON (default python3.11), PEER_ENVS_DIR (default benchmarks/.envs).
#
# torch is installed first, alone, as the CPU build 2.13.0 and kept in the second command so
# pip cannot swap it for a CUDA build. cell2location installs only with pyro-ppl 1.9.1.
# Verified on this machine (Python 3.11.7, CPU): cell2location 0.1.5 resolves to scvi-tools
# 1.4.2, lightning 2.6.6, numpy 2.4.6, anndata 0.12.19; tangram-sc 1.0.4 to scanpy 1.11.5.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENVS="${PEER_ENVS_DIR:-$(dirname "$HERE")/.envs}"
PYTHON="${PYTHON:-python3.11}"
TORCH="torch==2.13.0"

pins_of() {
    case "$1" in
        tangram) echo "tangram-sc==1.0.4 scanpy==1.11.5 anndata==0.12.19 numpy==2.4.6 pandas==2.3.3" ;;
        cell2location) echo "cell2location==0.1.5 pyro-ppl==1.9.1 scvi-tools==1.4.2 anndata==0.12.19 numpy==2.4.6" ;;
        *) echo "unknown tool: $1 (known: tangram cell2location)" >&2; return 1 ;;
    esac
}

module_of() { [[ "$1" == tangram ]] && echo tangram || echo cell2location; }

setup() {
    local tool="$1" env="$ENVS/deconv-$1" pins
    pins="$(pins_of "$tool")"
    if [[ -f "$env/.complete" && "$(cat "$env/.complete")" == "$pins" ]]; then
        echo "[$tool] complete, skipped ($env)"
        return 0
    fi
    rm -rf "$env"
    "$PYTHON" -m venv "$env"
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check "$TORCH"
    # shellcheck disable=SC2086
    "$env/bin/python" -m pip install --quiet --disable-pip-version-check "$TORCH" $pins
    OMP_NUM_THREADS=1 "$env/bin/python" -W ignore -c "import $(module_of "$tool")"
    echo "$pins" >"$env/.complete"
    echo "[$tool] ready: $env"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(tangram cell2location)
mkdir -p "$ENVS"
for tool in "${tools[@]}"; do setup "$tool"; done
