"""Cancer-region detection on the pathologist-labelled HER2+ sections, leave one patient out.

Folds: the eight labelled sections A1, B1, C1, D1, E1, F1, G2 and H1 come from eight patients;
each is held out in turn and the other seven are the references (training). Positives:
"invasive cancer" and "cancer in situ"; spots labelled "undetermined" are left out of training
and of scoring. The held-out section's labels are read only to score it.

Genes and features, the same for every method: the genes measured in all eight sections, the
3,000 most variable of them on the references (seurat_v3 on raw counts, section as batch),
log1p of counts per 10⁴, each gene scaled to [0, 1] within its section (SpaCRD's input).

Methods:

- ``spacrd``: stmin SpaCRD, expression alone (``sm.tl.detect_cancer_regions``, defaults:
  Adam lr 1e-4, batches of 128 spots, 10 epochs per stage);
- ``spacrd_paper``: the same with the paper's schedule (lr 1e-5, batches of 512, 100 epochs
  per stage);
- ``logreg_pca``: logistic regression on 50 principal components (fit on the references);
- ``knn``: k-nearest-neighbour label transfer (15 neighbours, cosine, on the 50 components);
- ``mlp``: a 256-unit multilayer perceptron on the genes (scikit-learn, early stopping).

Scores: AUC and AP over the held-out section's labelled spots; F1 of the call at a threshold
chosen without its labels: the two-component mixture on the logits of each method's
probabilities (SpaCRD's rule, the default of ``sm.tl.detect_cancer_regions``) and probability
0.5 (for SpaCRD, the discriminator's). Each run is its own process (wall time from the inputs in memory to scores;
peak RSS of that process, which includes the eight sections loaded before it starts).

``--imaged`` runs the two-modality path on B4 and C2–C6, the sections with H&E here (none of
them labelled): an expression-only model trained on the eight labelled sections gives each
imaged section its calls; then, leaving one imaged section out, SpaCRD with expression and
image features (and, side by side, expression alone) learns those calls on the other five and
scores the held-out one. This measures whether the fusion path trains and how well it
reproduces the calls, not accuracy against a pathologist.

    python benchmarks/cancer_regions.py                      # 8 folds, all methods, seeds 0-2
    python benchmarks/cancer_regions.py --datasets B1 --methods knn --seeds 0
    python benchmarks/cancer_regions.py --imaged --seeds 0
"""

from __future__ import annotations

import json
import multiprocessing as mp
import platform
import resource
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import Records, command_line, failed_runs, fmt, parse_args
from domains import _machine

import stmin as sm
from stmin._cluster import mixture_threshold
from stmin._random import seeded
from stmin.model.spacrd._data import scaled_expression, section_counts, variable_genes

SECTIONS = ["A1", "B1", "C1", "D1", "E1", "F1", "G2", "H1"]
IMAGED = ["B4", "C2", "C3", "C4", "C5", "C6"]
METHODS = ["spacrd", "logreg_pca", "knn", "mlp"]
EXTRA = ["spacrd_paper", "spacrd_image", "spacrd_expression"]
NAMES = {
    "spacrd": "stmin SpaCRD (expression, defaults)",
    "spacrd_paper": "stmin SpaCRD (expression, paper schedule)",
    "logreg_pca": "logistic regression on 50 PCs",
    "knn": "kNN label transfer (k = 15)",
    "mlp": "MLP (256 units)",
    "spacrd_image": "stmin SpaCRD (expression + stats image features)",
    "spacrd_expression": "stmin SpaCRD (expression alone)",
}
POSITIVE = ["invasive cancer", "cancer in situ"]
EXCLUDE = ["undetermined"]
STOCHASTIC = {"spacrd", "spacrd_paper", "mlp", "spacrd_image", "spacrd_expression"}
MAX_FOLD_S = 120  # target: ≤ 2 min per fold on 2 cores
IMAGE_KEY = "X_he_stats"


def _labels(adata) -> tuple[np.ndarray, np.ndarray]:
    """(scored spots, positives among them) of a section's pathologist labels."""
    lab = adata.obs["label"].astype(object)
    scored = lab.notna().to_numpy() & ~lab.isin(EXCLUDE).to_numpy()
    return scored, lab.isin(POSITIVE).to_numpy()


def _features(target, refs: list) -> tuple[np.ndarray, list[np.ndarray]]:
    """SpaCRD's expression input of the target and of every reference (same genes)."""
    counts = [section_counts(r, None, f"reference[{i}]") for i, r in enumerate(refs)]
    shared = target.var_names
    for r in refs:
        shared = shared.intersection(r.var_names, sort=False)
    genes = variable_genes(counts, [r.var_names for r in refs], list(shared), 3000)
    ref_x = [scaled_expression(c, r.var_names, genes) for c, r in zip(counts, refs, strict=True)]
    tgt_x = scaled_expression(section_counts(target, None, "target"), target.var_names, genes)
    return tgt_x, ref_x


def _baseline(method: str, target, refs: list, seed: int) -> np.ndarray:
    tgt_x, ref_x = _features(target, refs)
    x = np.concatenate(ref_x)
    y = np.concatenate([_labels(r)[1] for r in refs])
    train = np.concatenate([_labels(r)[0] for r in refs])
    x, y = x[train], y[train]
    if method == "mlp":
        clf = MLPClassifier((256,), early_stopping=True, random_state=seed, max_iter=200)
        return clf.fit(x, y).predict_proba(tgt_x)[:, 1]
    pca = PCA(50, random_state=0).fit(x)
    z, tz = pca.transform(x), pca.transform(tgt_x)
    if method == "logreg_pca":
        return LogisticRegression(max_iter=2000).fit(z, y).predict_proba(tz)[:, 1]
    knn = KNeighborsClassifier(15, metric="cosine").fit(z, y)
    return knn.predict_proba(tz)[:, 1]


def _spacrd(method: str, target, refs: list, seed: int, labels_key: str = "label") -> np.ndarray:
    """The discriminator's probabilities of the target's spots.

    The same steps as ``sm.tl.detect_cancer_regions`` (which writes these scores min–max
    scaled over the section, and its call at the mixture cut of their logits).
    """
    train_kwargs = {"enable_progress_bar": False}
    if method == "spacrd_paper":
        train_kwargs |= {"max_epochs": 100, "lr": 1e-5, "align_epochs": 100, "batch_size": 512}
    with seeded(seed), sm.settings.threads():
        model = sm.model.SpaCRD.from_references(
            refs,
            labels_key,
            POSITIVE if labels_key == "label" else ["cancer"],
            genes=target.var_names,
            image_key=IMAGE_KEY if method == "spacrd_image" else None,
        )
        model.train(**train_kwargs)
        return model.get_scores(target)


def _child(method, target, refs, seed, labels_key, queue) -> None:
    sm.settings.verbosity = "warning"
    try:
        t0 = time.perf_counter()
        if method.startswith("spacrd"):
            score = _spacrd(method, target, refs, seed, labels_key)
        else:
            score = _baseline(method, target, refs, seed)
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put({"score": score.tolist(), "wall_s": wall, "peak_rss_mb": peak})
    except Exception as err:  # recorded as a failed run
        queue.put({"error": f"{type(err).__name__}: {err}"})


def _run(method, target, refs, seed, labels_key="label") -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(method, target, refs, seed, labels_key, queue))
    proc.start()
    res = queue.get()
    proc.join()
    return res


def _scores(score: np.ndarray, positive: np.ndarray) -> dict:
    p = np.clip(score, 1e-7, 1 - 1e-7)
    logit = np.log(p / (1 - p))
    cut = 1 / (1 + np.exp(-mixture_threshold(logit))) if np.ptp(logit) > 0 else 0.5
    return {
        "auc": float(roc_auc_score(positive, score)),
        "ap": float(average_precision_score(positive, score)),
        "f1_mixture": float(f1_score(positive, score > cut)),
        "f1_half": float(f1_score(positive, score > 0.5)),
        "called": float((score > cut).mean()),
        "prevalence": float(positive.mean()),
    }


def _table(df: pd.DataFrame, methods: list, folds: list, metric: str, title: str, digits=3):
    lines = [
        f"### {title}",
        "",
        "| method | " + " | ".join(folds) + " | mean |",
        "|---" * (len(folds) + 2) + "|",
    ]
    for m in methods:
        g = df[df["method"] == m]
        cells = [fmt(g.loc[g["dataset"] == f, metric], digits) for f in folds]
        g = g[g["dataset"].isin(folds)]
        complete = g.groupby("seed")["dataset"].nunique() == len(folds)
        per_seed = g[g["seed"].isin(complete[complete].index)].groupby("seed")[metric].mean()
        cells.append(fmt(per_seed, digits))  # only seeds run on every fold
        lines.append(f"| {NAMES[m]} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _summary(df: pd.DataFrame, methods: list, folds: list) -> list[str]:
    lines = [
        "### Summary (mean over folds; spread over seeds)",
        "",
        "| method | seeds | mean AUC (mean ± sd) | worst seed AUC | mean AP | mean F1 (mixture) "
        "| mean F1 (0.5) | wall per fold (s, max) | peak RSS (MiB, max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        g = df[(df["method"] == m) & df["dataset"].isin(folds)]
        complete = g.groupby("seed")["dataset"].nunique() == len(folds)
        g = g[g["seed"].isin(complete[complete].index)]
        if g.empty:
            continue
        per_seed = g.groupby("seed")[["auc", "ap", "f1_mixture", "f1_half"]].mean()
        lines.append(
            f"| {NAMES[m]} | {len(per_seed)} | {fmt(per_seed['auc'])} | "
            f"{per_seed['auc'].min():.3f} | {fmt(per_seed['ap'])} | "
            f"{fmt(per_seed['f1_mixture'])} | {fmt(per_seed['f1_half'])} | "
            f"{g['wall_s'].max():.1f} | {g['peak_rss_mb'].max():.0f} |"
        )
    return [*lines, ""]


def _paired(df: pd.DataFrame, a: str, b: str) -> list[str]:
    """Mean AUC of two methods over the (fold, seed) runs both have."""
    both = df[df["method"].isin([a, b])].pivot_table(
        index=["dataset", "seed"], columns="method", values=["auc", "wall_s"]
    )
    both = both.dropna()
    if both.empty:
        return []
    folds = sorted({f for f, _ in both.index})
    return [
        f"Same runs of {NAMES[a]} and {NAMES[b]} ({len(both)} fold × seed pairs, folds "
        f"{', '.join(folds)}): mean AUC {both[('auc', a)].mean():.3f} against "
        f"{both[('auc', b)].mean():.3f}; mean wall time {both[('wall_s', a)].mean():.0f} s "
        f"against {both[('wall_s', b)].mean():.0f} s.",
        "",
    ]


def write_report(records: list[dict], notes: dict, out: Path) -> None:
    df = pd.DataFrame(records)
    ok = df[df["error"].isna()] if "error" in df else df
    commands = list(dict.fromkeys(r.get("command", "?") for r in records))
    lines = [
        "# Cancer regions: HER2+ leave one patient out",
        "",
        "Commands: " + "; ".join(f"`{c}`" for c in commands),
        "",
        f"- Data: {notes.get('data', '')}",
        f"- Machine: {notes.get('machine', '')}; one PyTorch thread per run "
        "(`sm.settings.n_jobs = 1`); at times two runs shared the two cores (with the "
        "paper-schedule runs or the tests), so wall times are upper bounds.",
        f"- Versions: {notes.get('versions', '')}",
        "- Metric: AUC and AP of the score over the held-out section's labelled spots "
        "(undetermined left out); F1 of the call at the mixture threshold and at 0.5; "
        "mean ± sd over seeds; the mean column averages each seed over the folds.",
        "",
    ]
    lines += ["Methods:", *__doc__.split("Methods:")[1].split("Scores:")[0].splitlines()]
    folds = [s for s in SECTIONS if s in set(ok.get("dataset", []))]
    labelled = ok[ok["dataset"].isin(SECTIONS)] if not ok.empty else ok
    if not labelled.empty:
        methods = [m for m in METHODS + EXTRA if m in set(labelled["method"])]
        lines += ["## Leave one patient out (expression)", ""]
        lines += _summary(labelled, methods, folds)
        lines += _table(labelled, methods, folds, "auc", "AUC per held-out section")
        lines += _table(labelled, methods, folds, "ap", "AP per held-out section")
        lines += _table(labelled, methods, folds, "f1_mixture", "F1 at the mixture threshold")
        lines += _table(labelled, methods, folds, "f1_half", "F1 at probability 0.5")
        lines += _table(labelled, methods, folds, "wall_s", "Wall time per fold (s)", 1)
        lines += _paired(labelled, "spacrd", "spacrd_paper")
        prev = labelled.groupby("dataset")["prevalence"].first()
        lines += [
            "Cancer fraction of the scored spots: "
            + ", ".join(f"{f} {prev[f]:.2f}" for f in folds)
            + ".",
            "",
        ]
    imaged = ok[ok["dataset"].isin(IMAGED)] if not ok.empty else ok
    if not imaged.empty:
        ifolds = [s for s in IMAGED if s in set(imaged["dataset"])]
        methods = [m for m in EXTRA[1:] if m in set(imaged["method"])]
        lines += [
            "## Two modalities on the imaged sections (agreement with expression-only calls)",
            "",
            "No imaged section is labelled here. Labels = the calls of one expression-only "
            "SpaCRD trained on the eight labelled sections (seed 0, mixture threshold on each "
            "section's logits); each "
            "imaged section is held out in turn and the model learns those calls on the other "
            "five. AUC/AP/F1 below measure agreement with those calls, not accuracy. Image "
            "features: `sm.pp.he_features(encoder='stats')` (weight-free).",
            "",
        ]
        lines += _summary(imaged, methods, ifolds)
        lines += _table(imaged, methods, ifolds, "auc", "AUC against the expression-only calls")
        lines += _table(imaged, methods, ifolds, "wall_s", "Wall time per fold (s)", 1)
    lines += ["## Raw records", "", "`benchmarks/results/cancer_regions_raw.jsonl`", ""]
    lines += failed_runs(df.to_dict("records"))
    out.write_text("\n".join(lines) + "\n")


def _image_features(adata, name: str, cache: Path) -> None:
    file = cache / f"her2st_{name}_stats.npy"
    if file.exists():
        adata.obsm[IMAGE_KEY] = np.load(file)
        return
    sm.pp.he_patches(adata)
    sm.pp.he_features(adata, "stats")
    adata.obsm.pop("he_patches")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(file, adata.obsm[IMAGE_KEY])


def _calls(labelled: list, imaged: dict, queue) -> None:
    """Calls of one expression-only SpaCRD trained on the labelled sections (mixture cut)."""
    sm.settings.verbosity = "warning"
    shared = sorted(set.intersection(*(set(a.var_names) for a in imaged.values())))
    with seeded(0), sm.settings.threads():
        model = sm.model.SpaCRD.from_references(labelled, "label", POSITIVE, genes=shared)
        model.train(enable_progress_bar=False)
        logits = {s: model.get_scores(a, logits=True) for s, a in imaged.items()}
    queue.put({s: np.where(v > mixture_threshold(v), "cancer", "other") for s, v in logits.items()})


def _imaged_sections(data: dict, data_dir: Path, rec: Records) -> dict:
    """Imaged sections with stats features and the expression-only calls as labels."""
    cache = Path.home() / ".cache" / "stmin-bench"
    imaged = {}
    for s in IMAGED:
        adata = sm.datasets.her2st(s, path=data_dir)
        _image_features(adata, s, cache)
        imaged[s] = adata
    ctx = mp.get_context("fork")  # no OpenMP in this process before it forks
    queue = ctx.Queue()
    proc = ctx.Process(target=_calls, args=(list(data.values()), imaged, queue))
    proc.start()
    calls = queue.get()
    proc.join()
    for s, call in calls.items():
        imaged[s].obs["call"] = pd.Categorical(call)
    rec.note("imaged", {s: float((a.obs["call"] == "cancer").mean()) for s, a in imaged.items()})
    return imaged


def main(imaged_mode: bool = False) -> None:
    args = parse_args(__doc__, SECTIONS, METHODS, EXTRA)
    rec = Records.open(args.results, "cancer_regions", args.fresh)
    data = {s: sm.datasets.her2st(s, path=args.data_dir) for s in SECTIONS}
    rec.note(
        "her2st",
        {
            "data": "her2st (Andersson et al. 2021), pathologist-labelled sections "
            + ", ".join(f"{s} ({a.n_obs} spots)" for s, a in data.items()),
            "machine": _machine(),
            "versions": f"stmin {sm.__version__}, Python {platform.python_version()}, torch "
            f"{version('torch')}, scikit-learn {version('scikit-learn')}",
        },
    )
    command = command_line("cancer_regions.py") + (" --imaged" if imaged_mode else "")
    runs = []
    if imaged_mode:
        imaged = _imaged_sections(data, args.data_dir, rec)
        for held in IMAGED:
            refs = [imaged[s] for s in IMAGED if s != held]
            truth = (imaged[held].obs["call"] == "cancer").to_numpy()
            for method in ["spacrd_image", "spacrd_expression"]:
                runs += [
                    (held, method, seed, imaged[held], refs, truth, "call") for seed in args.seeds
                ]
    else:
        for held in args.datasets:
            refs = [data[s] for s in SECTIONS if s != held]
            scored, positive = _labels(data[held])
            for method in args.methods:
                seeds = args.seeds if method in STOCHASTIC else [0]
                runs += [
                    (held, method, seed, data[held], refs, (scored, positive), "label")
                    for seed in seeds
                ]
    for held, method, seed, target, refs, truth, labels_key in runs:
        if (held, method, seed) in rec.done:
            continue
        res = _run(method, target, refs, seed, labels_key)
        record = {"dataset": held, "method": method, "seed": seed, "command": command}
        if "error" in res:
            record["error"] = res["error"]
        else:
            score = np.asarray(res["score"])
            if isinstance(truth, tuple):
                scored, positive = truth
                score, positive = score[scored], positive[scored]
            else:
                positive = truth
            record |= _scores(score, positive)
            record |= {"wall_s": res["wall_s"], "peak_rss_mb": res["peak_rss_mb"]}
        rec.add(record)
        print(json.dumps({k: v for k, v in record.items() if k != "command"}), flush=True)
    write_report(rec.records, rec.notes["her2st"], args.results / "cancer_regions.md")


if __name__ == "__main__":
    IMAGED_MODE = "--imaged" in sys.argv
    if IMAGED_MODE:
        sys.argv.remove("--imaged")
    main(IMAGED_MODE)
