#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what is missing, then runs pytest.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -m "not slow"` for a quick local run.
# Run it inside the environment you set up with the README's first command (a venv is best).
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg >/dev/null
fi
# Runtime and test tools (pytest, playwright, deptry, ...); a no-op once everything is there.
python -m pip install -q -r requirements.txt -r requirements-dev.txt
exec python -m pytest "$@"
