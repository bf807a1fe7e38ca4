"""SpaCRD schedules on one held-out HER2+ patient: paper (lr 1e-5, 100 epochs, batch 512) vs lr 1e-4 / 1e-3.

python benchmarks/spacrd_schedule/explore.py H1 G2 D1
"""

import json
import os
import sys
import time

from sklearn.metrics import average_precision_score, roc_auc_score

import stmin as sm

DATA = os.environ.get("STMIN_DATA_DIR", "../shared/data")

sm.settings.verbosity = "warning"
secs = ["A1", "B1", "C1", "D1", "E1", "F1", "G2", "H1"]
data = {s: sm.datasets.her2st(s, path=DATA) for s in secs}
pos = ["invasive cancer", "cancer in situ"]
configs = {
    "paper": dict(lr=1e-5, max_epochs=100),
    "lr1e-4_30": dict(lr=1e-4, max_epochs=30),
    "lr1e-4_100": dict(lr=1e-4, max_epochs=100),
    "lr1e-3_30": dict(lr=1e-3, max_epochs=30),
}
for tgt in sys.argv[1:]:
    refs = [data[s] for s in secs if s != tgt]
    lab = data[tgt].obs["label"].astype(str)
    keep = (lab != "undetermined") & (lab != "nan")
    y = lab.isin(pos).to_numpy()[keep]
    for name, cfg in configs.items():
        a = data[tgt].copy()
        t = time.time()
        sm.tl.detect_cancer_regions(
            a,
            refs,
            "label",
            pos,
            max_epochs=cfg["max_epochs"],
            train_kwargs={"lr": cfg["lr"], "enable_progress_bar": False},
        )
        s = a.obs["spacrd_score"].to_numpy()[keep]
        print(
            json.dumps(
                {
                    "fold": tgt,
                    "config": name,
                    "auc": roc_auc_score(y, s),
                    "ap": average_precision_score(y, s),
                    "wall": time.time() - t,
                    "bce_end": float(a.uns["spacrd"]["history"]["bce_train"][-1]),
                }
            ),
            flush=True,
        )
