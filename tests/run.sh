#!/usr/bin/env bash
# The project's one test command (README, .ci/run): installs what is missing, then runs pytest.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -m "not slow"` for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1 PYTHONUNBUFFERED=1
if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg >/dev/null
  fi
fi
python -c "import panns_core, av, gradio, streamlit, playwright, pytest, hypothesis" 2>/dev/null || python -m pip install -q -r requirements-dev.txt
exec python -m pytest "$@"
