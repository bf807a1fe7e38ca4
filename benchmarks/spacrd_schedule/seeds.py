"""SpaCRD seed spread on one held-out HER2+ patient at a given batch size, epochs and lr (5 seeds).

python benchmarks/spacrd_schedule/seeds.py H1 128 20 1e-4
"""

import json
import os
import sys
import time

from sklearn.metrics import roc_auc_score

import stmin as sm

DATA = os.environ.get("STMIN_DATA_DIR", "../shared/data")

sm.settings.verbosity = "warning"
secs = ["A1", "B1", "C1", "D1", "E1", "F1", "G2", "H1"]
data = {s: sm.datasets.her2st(s, path=DATA) for s in secs}
pos = ["invasive cancer", "cancer in situ"]
tgt = sys.argv[1]
bs = int(sys.argv[2])
ep = int(sys.argv[3])
lr = float(sys.argv[4])
refs = [data[s] for s in secs if s != tgt]
lab = data[tgt].obs["label"].astype(str)
keep = (lab != "undetermined") & (lab != "nan")
y = lab.isin(pos).to_numpy()[keep]
for seed in range(5):
    t = time.time()
    a = sm.tl.detect_cancer_regions(
        data[tgt],
        refs,
        "label",
        pos,
        max_epochs=ep,
        random_state=seed,
        copy=True,
        train_kwargs={"lr": lr, "batch_size": bs, "enable_progress_bar": False},
    )
    s = a.obs["spacrd_score"].to_numpy()[keep]
    print(
        json.dumps(
            {
                "fold": tgt,
                "bs": bs,
                "ep": ep,
                "lr": lr,
                "seed": seed,
                "auc": round(roc_auc_score(y, s), 4),
                "wall": round(time.time() - t),
                "bce": round(float(a.uns["spacrd"]["history"]["bce_train"][-1]), 3),
            }
        ),
        flush=True,
    )
