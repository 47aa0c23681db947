#!/usr/bin/env bash
# Install everything tinyscale needs on a fresh Debian/Ubuntu machine:
#   ./setup.sh          TeX (when missing) + the pinned Python packages + tinyscale itself
#   ./setup.sh --test   the same, plus the test extra
#   ./setup.sh --slurm  the same, plus the SLURM executor plugin
set -euo pipefail
cd "$(dirname "$0")"

extras=()
for arg in "$@"; do
  case "$arg" in
    --test) extras+=(test) ;;
    --slurm) extras+=(slurm) ;;
    *) echo "setup.sh: unknown option '$arg' (use --test and/or --slurm)" >&2; exit 2 ;;
  esac
done

TEX_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science latexmk poppler-utils"
if ! command -v latexmk >/dev/null || ! command -v pdflatex >/dev/null || ! command -v pdftotext >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null && { [ -z "$sudo" ] || command -v sudo >/dev/null; }; then
    echo "setup.sh: installing TeX from Debian packages: $TEX_PACKAGES"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $TEX_PACKAGES >/dev/null
  else
    echo "setup.sh: the paper needs TeX (latexmk, pdflatex) and pdftotext, and this script cannot install them here." >&2
    echo "  Install the equivalents of these Debian packages, then run setup.sh again:" >&2
    echo "  $TEX_PACKAGES" >&2
    exit 1
  fi
fi

# The report test opens the HTML report in a headless browser (Debian's chromium).
if [[ " ${extras[*]-} " == *" test "* ]] && ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup.sh: installing chromium for the report test"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

spec="."
if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi
# The project's pins are exact (pyproject.toml). A site-wide pip constraint file that caps
# torch below them would make the install fail, so this one install uses the pins alone.
PIP_CONSTRAINT=/dev/null python3 -m pip install --quiet --disable-pip-version-check -e "$spec"
echo "setup.sh: done ($(python3 -c 'import torch, snakemake; print(f"torch {torch.__version__}, snakemake {snakemake.__version__}")'))"
