"""BIDSEAL_HOME keeps every BidSeal file under one folder (tests, portable installs)."""

from pathlib import Path

from app import paths


def test_bidseal_home_holds_every_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BIDSEAL_HOME", str(tmp_path))
    for fn in (paths.config_dir, paths.data_dir, paths.log_dir, paths.runtime_dir):
        assert fn().is_relative_to(tmp_path)
    assert len({paths.config_dir(), paths.data_dir(), paths.log_dir(), paths.runtime_dir()}) == 4


def test_platform_folders_without_bidseal_home(monkeypatch, tmp_path):
    monkeypatch.delenv("BIDSEAL_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert paths.config_dir() == tmp_path / "xdg" / "BidSeal"


def test_ensure_creates_a_private_folder(tmp_path):
    made = paths.ensure(tmp_path / "a" / "b")
    assert made.is_dir() and (made.stat().st_mode & 0o777) == 0o700
    assert isinstance(made, Path)


def test_runtime_dir_without_xdg_runtime_dir_is_quiet(monkeypatch, recwarn):
    monkeypatch.delenv("BIDSEAL_HOME", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert paths.runtime_dir().name
    assert not [w for w in recwarn if "runtime" in str(w.message).lower()]
