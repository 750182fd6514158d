"""Benchmarks of datagol-pulumi against bare baselines measured in the same run.

``python -m bench`` (or ``make bench``) runs B1-B4 and appends a row each to
bench/RESULTS.md; ``python -m bench B1 B3`` runs a subset. Modules:

* b1_trigger: provider create vs a bare ``requests`` POST (per-trigger overhead)
* b2_batches (+ b2_child): 100,000 selected rows in batches, wall time and peak RSS
* b3_concurrency: 32 waiting runs under ``pulumi up``, separate runs vs one group vs floor
* b4_noop: no-op ``pulumi up`` of 200 runs, requests sent (none expected) and state size

Everything talks to a ``datagol-emulator`` process on 127.0.0.1 only.
"""
