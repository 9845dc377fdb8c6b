#!/usr/bin/env bash
# Set up (or update) the vmae2 environment: a virtual environment with the whole
# OpenMMLab stack, mmcv compiled with its ops, and vmae2 installed in develop mode.
#
#   bash tools/setup.sh            # creates/reuses .venv in the repository root
#   VMAE2_VENV=/path/to/env bash tools/setup.sh
#   bash tools/setup.sh --print-pins   # the pinned requirements it installs, then exit
#
# Environment variables:
#   VMAE2_VENV        where the virtual environment lives (default: <repo>/.venv)
#   VMAE2_PYTHON      the interpreter that creates it (default: python3.11, else python3)
#   VMAE2_WHEEL_DIR   local wheel folder for the compiled mmcv (default: ~/.cache/vmae2/wheels)
#   MAX_JOBS          parallel compile jobs for mmcv (default: number of cores, at most 2
#                     on small machines: each job peaks at ~2 GB)
#
# As root with apt (a fresh machine, CI) it also installs FFmpeg's shared libraries, which the
# torchcodec video backend loads; elsewhere it says how, and vmae2 skips that backend.
#
# Every pin lives in one place, setup.cfg (install_requires, with the reason for each); this
# script reads the ones it installs before vmae2 itself from there.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VMAE2_VENV:-$REPO/.venv}"
WHEEL_DIR="${VMAE2_WHEEL_DIR:-$HOME/.cache/vmae2/wheels}"

log() { echo "[vmae2 setup $(date +%H:%M:%S)] $*"; }

if [[ -z "${VMAE2_PYTHON:-}" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then VMAE2_PYTHON=python3.11; else VMAE2_PYTHON=python3; fi
fi

# pin NAME: the requirement of NAME in setup.cfg's install_requires, e.g. `torch==2.14.1`
pin() {
  "$VMAE2_PYTHON" - "$REPO/setup.cfg" "$1" <<'PY'
import configparser, re, sys
cfg = configparser.ConfigParser()
cfg.read(sys.argv[1])
for line in cfg.get('options', 'install_requires').splitlines():
    line = line.split('#')[0].strip()
    if line and re.split(r'[<>=!~\[;\s]', line, maxsplit=1)[0].lower() == sys.argv[2].lower():
        print(line)
        break
else:
    sys.exit(f'setup.cfg pins no {sys.argv[2]}')
PY
}
TORCH_REQ="$(pin torch)"             # torch and torchvision lie on local disk for pip
TORCHVISION_REQ="$(pin torchvision)"
MMENGINE_REQ="$(pin mmengine)"
NUMPY_REQ="$(pin numpy)"
SETUPTOOLS_REQ="$(pin setuptools)"   # mmcv builds with pkg_resources
MMCV_REQ="$(pin mmcv)"               # compiled below: PyPI has only its source
MMCV_VERSION="${MMCV_REQ#*==}"
if [[ "${1:-}" == "--print-pins" ]]; then
  printf '%s\n' "$TORCH_REQ" "$TORCHVISION_REQ" "$MMENGINE_REQ" "$NUMPY_REQ" "$SETUPTOOLS_REQ" \
    "$MMCV_REQ"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtual environment at $VENV with $VMAE2_PYTHON"
  "$VMAE2_PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)

log "installing $TORCH_REQ, $TORCHVISION_REQ and build tools"
"${PIP[@]}" install "$TORCH_REQ" "$TORCHVISION_REQ" "$NUMPY_REQ" "$SETUPTOOLS_REQ" wheel ninja \
  "$MMENGINE_REQ"

# ---------------------------------------------------------------- mmcv (compiled)
have_mmcv_ops() {
  "$PY" - "$MMCV_VERSION" <<'PY' 2>/dev/null
import mmcv, sys
from mmcv.ops import RoIAlign  # noqa: F401  (needs the compiled _ext)
sys.exit(0 if mmcv.__version__ == sys.argv[1] else 1)
PY
}

if have_mmcv_ops; then
  log "mmcv $MMCV_VERSION with compiled ops already installed"
else
  # The wheel depends on the exact torch build (C++ ABI) and on CUDA: key the cache on both.
  KEY="$("$PY" - <<'PY'
import sys, torch
cuda = torch.version.cuda if torch.cuda.is_available() else None
dev = "cu" + cuda.replace(".", "") if cuda else "cpu"
print(f"torch{torch.__version__.split('+')[0]}-{dev}-py{sys.version_info[0]}{sys.version_info[1]}")
PY
)"
  CACHE="$WHEEL_DIR/$KEY"
  mkdir -p "$CACHE"
  WHEEL="$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$WHEEL" ]]; then
    BUILD="$(mktemp -d)"
    log "compiling mmcv $MMCV_VERSION with ops ($KEY); this takes ~10 minutes on 2 cores"
    (cd "$BUILD" && "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d . && tar xzf "mmcv-$MMCV_VERSION.tar.gz")
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    NJOBS="${MAX_JOBS:-$(( $(nproc) < 2 ? 1 : 2 ))}"
    FORCE_CUDA=0
    if "$PY" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then FORCE_CUDA=1; fi
    (cd "$SRC" && MMCV_WITH_OPS=1 MAX_JOBS="$NJOBS" FORCE_CUDA="$FORCE_CUDA" \
        "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$CACHE" .)
    rm -rf "$BUILD"
    WHEEL="$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl | head -n1)"
    log "built $WHEEL"
  else
    log "using cached mmcv wheel $WHEEL"
  fi
  "${PIP[@]}" install --no-deps --force-reinstall "$WHEEL"
  # mmcv's own runtime dependencies (installed --no-deps above to keep torch untouched)
  "${PIP[@]}" install addict packaging Pillow pyyaml yapf "opencv-python>=4.9"
fi

# ---------------------------------------------------------------- FFmpeg for torchcodec
# torchcodec (a video backend, see setup.cfg) is a wheel without FFmpeg: it loads the system's
# shared libraries (FFmpeg 4 or later). Installed with apt where this runs as root (a fresh
# machine, CI); elsewhere setup says how and carries on: vmae2 then skips torchcodec as a backend.
FFMPEG_DEBS=(libavutil57 libavcodec59 libavformat59 libavdevice59 libavfilter8 libswscale6 libswresample4)
have_ffmpeg_libs() { ldconfig -p 2>/dev/null | grep -Eq 'libavcodec\.so\.(5[89]|6[0-9])\b'; }
if have_ffmpeg_libs; then
  log "FFmpeg shared libraries present (for torchcodec)"
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing FFmpeg's shared libraries with apt (for torchcodec): ${FFMPEG_DEBS[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${FFMPEG_DEBS[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true  # package lists missing or stale
    apt-get install -y -q --no-install-recommends "${FFMPEG_DEBS[@]}" >/dev/null 2>&1 \
      || log "WARNING: apt could not install them; torchcodec will be skipped as a video backend"
  fi
else
  log "NOTE: FFmpeg's shared libraries are missing, so torchcodec will be skipped as a video" \
      "backend (decord and PyAV still work). To enable it, as root on Debian 12:" \
      "apt-get install ${FFMPEG_DEBS[*]} (elsewhere: FFmpeg 4 or later, as shared libraries, e.g." \
      "conda install -c conda-forge ffmpeg), then run this script again."
fi

# ---------------------------------------------------------------- the rest + vmae2
log "installing vmae2 and the rest of the stack (mmdet, mmaction2, decord, av, torchcodec, timm, einops)"
"${PIP[@]}" install --no-build-isolation -e "$REPO[tests]"

log "checking the stack"
"$PY" -c "import vmae2, mmaction.models, mmdet.models; from mmcv.ops import RoIAlign; print('vmae2', vmae2.__version__, 'ready')"
# which video backends load here (torchcodec needs the FFmpeg libraries above)
"$PY" -c "from vmae2.datasets.video_readers import backend_report; print(backend_report())"
