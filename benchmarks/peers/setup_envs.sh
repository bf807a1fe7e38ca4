#!/usr/bin/env bash
# Create one virtual environment per peer tool under benchmarks/.envs/<tool>/ (git-ignored).
#
# Usage: bash benchmarks/peers/setup_envs.sh [graphst] [spagcn] [banksy] [cellcharter]
#        (no argument: all four). Idempotent: an env whose marker file .complete matches the
#        pins below and whose package imports is skipped; otherwise it is rebuilt from scratch.
# Env:   PYTHON (default python3.11), PEER_ENVS_DIR (default benchmarks/.envs).
#
# Pins were verified to install and run DLPFC 151673 on CPU with Python 3.11 (see README.md
# in this folder for the reasons behind each pin). torch is always installed first and pinned
# to the CPU build 2.13.0; an unpinned torch may pull a multi-GB CUDA build.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENVS="${PEER_ENVS_DIR:-$(dirname "$HERE")/.envs}"
PYTHON="${PYTHON:-python3.11}"
TORCH="torch==2.13.0"
ALL_TOOLS=(graphst spagcn banksy cellcharter)

# Python module that must import for the env to count as complete.
module_of() {
    case "$1" in
        graphst) echo GraphST ;;
        spagcn) echo SpaGCN ;;
        banksy) echo banksy ;;
        cellcharter) echo cellcharter ;;
    esac
}

# Exact pins per tool (torch, where needed, is listed first and installed on its own first).
pins_of() {
    case "$1" in
        graphst)
            # GraphST's wheel declares only "requests": its real dependencies are listed here.
            echo "$TORCH GraphST==1.1.1 POT==0.9.7.post1 scikit-misc==0.5.3 scanpy==1.11.5" \
                "anndata==0.12.19 numpy==2.4.6 scipy==1.17.1 pandas==2.3.3" \
                "scikit-learn==1.9.1 leidenalg==0.12.0 igraph==1.0.0 tqdm==4.70.1"
            ;;
        spagcn)
            # scipy<1.14 (SpaGCN uses sparse .A), numpy<2.3 for that scipy,
            # setuptools<81 (louvain imports pkg_resources).
            echo "$TORCH SpaGCN==1.2.7 scipy==1.13.1 numpy==2.2.6 scanpy==1.11.5" \
                "anndata==0.12.19 pandas==2.3.3 scikit-learn==1.9.1 louvain==0.8.2" \
                "igraph==0.11.9 python-igraph==0.11.9 numba==0.68.1 setuptools==80.10.2"
            ;;
        banksy)
            echo "pybanksy==1.3.5 numpy==2.4.6 scipy==1.17.1 pandas==2.3.3 scanpy==1.11.5" \
                "anndata==0.12.19 scikit-learn==1.9.1 leidenalg==0.12.0 igraph==1.0.0" \
                "python-igraph==1.0.0 umap-learn==0.5.12"
            ;;
        cellcharter)
            echo "$TORCH cellcharter==0.3.7 scvi-tools==1.4.2 torchgmm==0.1.4 squidpy==1.8.2" \
                "scanpy==1.11.5 anndata==0.12.19 numpy==2.4.6 scipy==1.17.1 pandas==2.3.3" \
                "scikit-misc==0.5.3 lightning==2.6.6 pytorch-lightning==2.6.6" \
                "spatialdata==0.7.3"
            ;;
        *)
            echo "unknown tool: $1 (known: ${ALL_TOOLS[*]})" >&2
            return 1
            ;;
    esac
}

env_ok() {
    local env="$1" module="$2" pins="$3"
    [[ -x "$env/bin/python" && -f "$env/.complete" ]] || return 1
    [[ "$(cat "$env/.complete")" == "$pins" ]] || return 1
    OMP_NUM_THREADS=1 "$env/bin/python" -c "import $module" >/dev/null 2>&1
}

setup_tool() {
    local tool="$1" env="$ENVS/$1" module pins
    module="$(module_of "$tool")"
    pins="$(pins_of "$tool")"
    if env_ok "$env" "$module" "$pins"; then
        echo "[$tool] complete, skipped ($env)"
        return 0
    fi
    echo "[$tool] building $env"
    rm -rf "$env"
    "$PYTHON" -m venv "$env" || return 1
    local pip=("$env/bin/python" -m pip install --quiet --disable-pip-version-check)
    if [[ " $pins " == *" $TORCH "* ]]; then
        echo "[$tool] pip install $TORCH"
        "${pip[@]}" "$TORCH" || return 1
    fi
    echo "[$tool] pip install $pins"
    # shellcheck disable=SC2086  # pins are whitespace-separated requirement specifiers
    "${pip[@]}" $pins || return 1
    OMP_NUM_THREADS=1 "$env/bin/python" -W ignore -c "import $module" || return 1
    echo "$pins" >"$env/.complete"
    echo "[$tool] done: $("$env/bin/python" -m pip freeze 2>/dev/null | wc -l) packages installed"
}

main() {
    local tools=("$@") failed=()
    [[ ${#tools[@]} -gt 0 ]] || tools=("${ALL_TOOLS[@]}")
    mkdir -p "$ENVS"
    for tool in "${tools[@]}"; do
        pins_of "$tool" >/dev/null || exit 2
        setup_tool "$tool" || failed+=("$tool")
    done
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "FAILED: ${failed[*]}" >&2
        exit 1
    fi
    echo "all requested peer envs ready under $ENVS"
}

main "$@"
