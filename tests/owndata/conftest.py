"""The export, its proposed mapping and one database loaded with them, for the package."""

from __future__ import annotations

import pytest

from ingest.inspect import propose
from tests.conftest import loaded_database
from tests.owndata.export import make_export


@pytest.fixture(scope="package")
def export(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="package")
def mapping_file(export, tmp_path_factory):
    path = tmp_path_factory.mktemp("mapping") / "mapping.yml"
    path.write_text(propose(export.crm, export.events), encoding="utf-8")
    return path


@pytest.fixture(scope="package")
def loaded(pg_server_url, tmp_path_factory, export, mapping_file):
    with loaded_database(
        pg_server_url, tmp_path_factory.mktemp("data"), export.crm, export.events, ingest_mapping=mapping_file
    ) as settings:
        yield settings
