#!/usr/bin/env bash
# Install everything tinyscale needs on a fresh Debian/Ubuntu machine:
#   ./setup.sh          TeX (when missing) + the pinned Python packages + tinyscale itself
#   ./setup.sh --test   the same, plus the test extra
#   ./setup.sh --slurm  a cluster's submit host: the Python packages and the SLURM executor
#                       plugin, by pip alone (no TeX: the paper compiles in a job; no root)
set -euo pipefail
cd "$(dirname "$0")"

extras=()
need_tex=1
for arg in "$@"; do
  case "$arg" in
    --test) extras+=(test) ;;
    --slurm) extras+=(slurm) ;;
    *) echo "setup.sh: unknown option '$arg' (use --test and/or --slurm)" >&2; exit 2 ;;
  esac
done
# The submit host only plans and submits; the tests compile PDFs, so --test keeps TeX.
if [[ " ${extras[*]} " == *" slurm "* && " ${extras[*]} " != *" test "* ]]; then need_tex=0; fi

TEX_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science latexmk poppler-utils"
if [ "$need_tex" = 1 ] && { ! command -v latexmk >/dev/null || ! command -v pdflatex >/dev/null || ! command -v pdftotext >/dev/null; }; then
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

# The stand-ins the download rule builds, on the machine that runs snakemake: the keyword-spotting
# one's words are spoken by Debian's espeak-ng, the language-modelling one is the King James Bible
# as Debian's bible-kjv prints it. Only those datasets need them: a failed install warns and goes on.
if [ "$need_tex" = 1 ] && { ! command -v espeak-ng >/dev/null || ! command -v bible >/dev/null; } && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup.sh: installing espeak-ng and bible-kjv for the keyword-spotting and language-modelling stand-ins"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends espeak-ng bible-kjv >/dev/null; }; then
    echo "setup.sh: could not install espeak-ng and bible-kjv; install them to build the speech_standin and kjv datasets" >&2
  fi
fi

spec="."
if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi
# The project's pins are exact (pyproject.toml). A site-wide pip constraint file that caps
# torch below them would make the install fail, so this one install uses the pins alone.
# Without root, outside a virtual environment, into the user's site-packages.
user=()
if ! python3 -c 'import os, sys, sysconfig; sys.exit(not os.access(sysconfig.get_paths()["purelib"], os.W_OK))'; then
  user=(--user)
  echo "setup.sh: $(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') is not writable: installing with pip --user (or run this in a virtual environment)"
fi
PIP_CONSTRAINT=/dev/null python3 -m pip install --quiet --disable-pip-version-check "${user[@]}" -e "$spec"
echo "setup.sh: done ($(python3 -c 'import torch, snakemake; print(f"torch {torch.__version__}, snakemake {snakemake.__version__}")'))"
