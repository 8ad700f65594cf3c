#!/usr/bin/python3
"""Time pandas' read_csv on a table, the reference for oddity's table
reader (scripts/tablebench): the same file, the default engine ("c"), with
the missing markers oddity also reads as missing, and the peak resident
memory of the process.

    /usr/bin/python3 scripts/reference/pandas_read.py /tmp/mixed-1m.csv
"""
import resource
import sys
import time

import pandas as pd

path = sys.argv[1]
t = time.perf_counter()
df = pd.read_csv(path, na_values=["", "NA", "N/A", "null", "NULL", "NaN", "nan", "?", "-"])
dt = time.perf_counter() - t
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"pandas {pd.__version__} read_csv: {dt:.2f} s, {len(df) / dt:.0f} rows/s, "
      f"{len(df)} x {df.shape[1]}, peak RSS {peak_mb:.0f} MB")
