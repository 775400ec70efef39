"""How ``confirm_v1.sqlite`` was made, with the code of commit f4387af (before the confirm
phase moved into SQLiteStorage): a 6-trial search on 3 folds, then a confirm phase of 2
configurations of which only the first was run (the second is left for a resume).

Run (from a checkout of that commit): ``python tests/data/make_confirm_v1.py OUT.sqlite``.
"""

import os
import sqlite3
import sys

from hpstudy import Study
from hpstudy.study._confirm import confirm_study
from tests import _stopping_curves as curves

path = sys.argv[1]
study = Study(curves.space(), metric="acc", storage=path, seed=1, folds=curves.folds(),
              early_terminate={"type": "hyperband", "min_iter": 3, "eta": 3})
study.run(curves.objective, n_trials=6, progress=False)
phase = confirm_study(study, top=1, per_model="model_name", seeds=1)
phase.run(curves.objective, n_trials=1, progress=False)
for store in (study.storage, phase.storage):
    store.close()
conn = sqlite3.connect(path)
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.execute("PRAGMA journal_mode=DELETE")
conn.execute("VACUUM")
conn.close()
print(os.path.getsize(path))
