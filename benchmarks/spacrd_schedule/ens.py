"""SpaCRD single models (and their 3-model average) at a given schedule, 5 × 3 seeds.

python benchmarks/spacrd_schedule/ens.py H1 128 10 1e-4 0
"""

import json
import os
import sys
import time

import numpy as np
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
wd = float(sys.argv[5])
refs = [data[s] for s in secs if s != tgt]
lab = data[tgt].obs["label"].astype(str)
keep = (lab != "undetermined") & (lab != "nan")
y = lab.isin(pos).to_numpy()[keep]
for seed in range(5):
    t = time.time()
    members = []
    for m in range(3):
        a = sm.tl.detect_cancer_regions(
            data[tgt],
            refs,
            "label",
            pos,
            max_epochs=ep,
            random_state=100 * seed + m,
            copy=True,
            train_kwargs={
                "lr": lr,
                "batch_size": bs,
                "weight_decay": wd,
                "enable_progress_bar": False,
            },
        )
        members.append(a.obs["spacrd_score"].to_numpy()[keep])
    ens = np.mean(members, 0)
    print(
        json.dumps(
            {
                "fold": tgt,
                "bs": bs,
                "ep": ep,
                "wd": wd,
                "seed": seed,
                "members": [round(roc_auc_score(y, s), 3) for s in members],
                "ens": round(roc_auc_score(y, ens), 4),
                "wall": round(time.time() - t),
            }
        ),
        flush=True,
    )
