"""The pandas side of the feature store benchmark: point-in-time join of
entity rows against a feature table with merge_asof, as Feast's local
offline store does it. Prints "<seconds> <entity rows> <matched>".

Reading and parsing the CSV files is not timed (Sluice's History is handed
parsed entity rows and reads an already materialized table); the sorts
merge_asof needs are.
"""
import sys
import time

import pandas as pd

data = sys.argv[1]
ttl = pd.Timedelta(hours=720)

tx = pd.read_csv(f"{data}/transactions.csv", parse_dates=["event_timestamp"])
ents = pd.read_csv(f"{data}/entities.csv", parse_dates=["event_timestamp"])

start = time.perf_counter()
left = ents.sort_values("event_timestamp", kind="stable")
right = tx.sort_values("event_timestamp", kind="stable")
out = pd.merge_asof(
    left,
    right,
    on="event_timestamp",
    by="user_id",
    direction="backward",
    allow_exact_matches=True,
    tolerance=ttl,
)
took = time.perf_counter() - start
print(f"{took:.3f} {len(out)} {int(out['amount'].notna().sum())}")
