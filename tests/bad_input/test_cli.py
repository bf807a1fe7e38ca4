"""Bad input to the ``stmin`` command: exit status 2, one clear line, no traceback, no training."""

import hashlib
import re

import pytest

from stmin.cli import main
from stmin.train import TrainingMixin


@pytest.fixture(autouse=True)
def _no_training(monkeypatch):
    """Every error below must be found before training starts."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started before the bad input was caught")

    monkeypatch.setattr(TrainingMixin, "train", refuse)


@pytest.fixture
def h5ad(small_section, tmp_path):
    path = tmp_path / "in.h5ad"
    small_section.write_h5ad(path)
    return path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(capsys, *argv):
    code = main(["run", "stmgac", *map(str, argv)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_unreadable_input(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.h5ad"
    corrupt.write_bytes(b"not an h5ad file")
    code, err = _run(capsys, corrupt, "-o", tmp_path / "out.h5ad", "--n-clusters", "3")
    assert code == 2
    assert "cannot read" in err and "corrupt.h5ad" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tmp: tmp / "missing.h5ad", "does not exist"),
        (lambda tmp: tmp, "is a folder"),
    ],
    ids=["missing", "folder"],
)
def test_input_path(tmp_path, capsys, make, match):
    code, err = _run(capsys, make(tmp_path), "-o", tmp_path / "out.h5ad", "--n-clusters", "3")
    assert code == 2 and match in err


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tmp: tmp / "missing" / "out.h5ad", "output folder .* does not exist"),
        (lambda tmp: tmp, "is a folder"),
    ],
    ids=["missing-folder", "folder"],
)
def test_output_is_checked_before_reading_or_training(h5ad, tmp_path, capsys, make, match):
    code, err = _run(capsys, h5ad, "-o", make(tmp_path), "--n-clusters", "3")
    assert code == 2
    assert re.search(match, err)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (["--n-clusters", "100000"], "--n-clusters"),
        (["--n-clusters", "3", "--n-neighs", "100000"], "--n-neighs"),
        (["--n-clusters", "3", "--refine", "100000"], "--refine"),
        (["--n-clusters", "3", "--layer", "counts"], "omit --layer"),
        (["--n-clusters", "3", "--use-rep", "X_pca"], "omit --use-rep"),
        (["--n-clusters", "3", "--connectivity-key", "graph"], "drop --connectivity-key"),
        (["--n-clusters", "3", "--spatial-key", "xy"], "--spatial-key"),
        (["--n-clusters", "3", "--accelerator", "tpu9"], "--accelerator"),
    ],
)
def test_bad_options_name_the_option(h5ad, tmp_path, capsys, options, match):
    before = _digest(h5ad)
    code, err = _run(capsys, h5ad, "-o", tmp_path / "out.h5ad", *options)
    assert code == 2 and match in err
    assert not (tmp_path / "out.h5ad").exists()
    assert _digest(h5ad) == before  # the input file is left alone


@pytest.mark.parametrize(
    "options",
    [
        ["--n-clusters", "1"],
        ["--n-clusters", "abc"],
        ["--n-clusters", "3", "--seed", "-1"],
        ["--n-clusters", "3", "--seed", str(2**40)],
        ["--n-clusters", "3", "--max-epochs", "0"],
    ],
)
def test_out_of_range_numbers_are_refused_by_the_parser(h5ad, tmp_path, capsys, options):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "stmgac", str(h5ad), "-o", str(tmp_path / "o.h5ad"), *options])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda tmp: tmp / "file.txt", "is a file; give a folder"),
        (lambda tmp: tmp / "file.txt" / "sub", "lies under the file"),
    ],
    ids=["file", "under-a-file"],
)
def test_demo_output_folder(tmp_path, capsys, make, match):
    (tmp_path / "file.txt").write_text("x")
    code = main(["demo", "--out", str(make(tmp_path)), "--max-epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and match in err and "Traceback" not in err
