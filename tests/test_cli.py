import anndata as ad
import pytest

import stmin as sm
from stmin.cli import main


def test_demo_runs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--max-epochs", "2", "--accelerator", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "ARI" in printed
    assert (out / "domains.png").stat().st_size > 10_000
    result = ad.read_h5ad(out / "result.h5ad")
    assert "stmgac" in result.obs and "X_stmgac" in result.obsm


def test_run_command(small_section, tmp_path, capsys):
    src = tmp_path / "in.h5ad"
    small_section.write_h5ad(src)
    dst = tmp_path / "out.h5ad"
    argv = ["run", "stmgac", str(src), "-o", str(dst), "--n-clusters", "4", "--max-epochs", "2"]
    assert main([*argv, "--accelerator", "cpu"]) == 0
    result = ad.read_h5ad(dst)
    assert result.obs["stmgac"].nunique() <= 4
    assert "spatial_connectivities" in result.obsp


def test_run_reports_bad_input(small_section, tmp_path, capsys):
    src = tmp_path / "in.h5ad"
    small_section.write_h5ad(src)
    argv = ["run", "stmgac", str(src), "-o", str(tmp_path / "o.h5ad"), "--n-clusters"]
    # an invalid number is rejected by the parser (exit status 2), naming the option
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "1"])
    assert exit_info.value.code == 2
    assert "--n-clusters" in capsys.readouterr().err
    # input the method rejects: the error is reported and the status is 2
    code = main([*argv, str(small_section.n_obs + 1), "--accelerator", "cpu"])
    assert code == 2
    assert "n_clusters" in capsys.readouterr().err


def test_unknown_method_rejected():
    with pytest.raises(SystemExit):
        main(["run", "nope", "x.h5ad", "-o", "y.h5ad", "--n-clusters", "3"])
    assert sm.__version__
