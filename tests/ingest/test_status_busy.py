"""`ingest status` needs only PostgreSQL: it answers while another process holds the Qdrant local store."""

from __future__ import annotations

import subprocess
import sys

from cdp.vectors import close_qdrant
from ingest import run
from ingest.cli import main
from ingest.status import status
from tests.trust import TALLY


def test_status_answers_while_another_process_holds_the_vector_store(settings, small_sample, monkeypatch, capsys):
    run(settings, small_sample.crm, small_sample.events)
    close_qdrant()
    code = f"from qdrant_client import QdrantClient; import time; c = QdrantClient(path={str(settings.qdrant_dir)!r}); print('ready', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    TALLY.fault()
    try:
        assert holder.stdout.readline().strip() == "ready"
        info = status(settings)
        assert info["counts"]["customers"] == 80 and info["counts"]["vectors"] is None
        assert info["collection"] and "in use by another process" in info["vector_store"]

        monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
        monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
        from cdp.settings import get_settings

        get_settings.cache_clear()
        try:
            assert main(["status"]) == 0
        finally:
            get_settings.cache_clear()
        assert "80 customers" in capsys.readouterr().out
        TALLY.survived()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
