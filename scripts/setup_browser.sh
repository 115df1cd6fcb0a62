#!/usr/bin/env bash
# Debian's headless Chromium and its WebDriver, for the viewer's browser test (tests/test_view_browser.py)
# and the README screenshot (scripts/screenshot_viewer.py). Needs root (or sudo) and apt-get; prints
# why and exits 1 when it cannot install, so the caller can skip with that reason.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "setup_browser: apt-get not found; install chromium and chromium-driver by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "setup_browser: not root and no password-less sudo; install chromium and chromium-driver by hand" >&2
        exit 1
    fi
fi
# flock: two test processes may ask at once, and dpkg allows one installer at a time
(
    flock 9
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
            chromium chromium-driver fonts-dejavu-core >/dev/null
    fi
) 9>/tmp/sarbench-setup-browser.lock
command -v chromium >/dev/null && command -v chromedriver >/dev/null
