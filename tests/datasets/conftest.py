import pytest

from stmin.datasets import _paths


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No test touches the network or the user's cache: downloads fail, the cache is empty."""

    def fail(url, dest):
        raise ConnectionError(f"offline test, refused {url}")

    monkeypatch.setattr(_paths, "_download", fail)
    monkeypatch.setattr(_paths, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv(_paths.ENV_VAR, raising=False)
