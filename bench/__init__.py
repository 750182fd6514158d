"""Benchmarks of datagol-pulumi against bare baselines measured in the same run.

``python -m bench`` (or ``make bench``) runs B1-B6 and appends a row each to
bench/RESULTS.md; ``python -m bench B1 B3`` runs a subset. Modules:

* b1_trigger: provider create vs a bare ``requests`` POST (per-trigger overhead)
* b2_batches (+ b2_child): 100,000 selected rows in batches, wall time and peak RSS
* b3_concurrency: 32 waiting runs under ``pulumi up``, separate runs vs one group vs floor
* b4_noop: no-op ``pulumi up`` of 200 runs, requests sent (none expected) and state size
* b5_seeding: create of 50/200/800 runs: separate, checkpoints skipped, one group
* b6_engine_path (+ trivial_program, runs_program, probe/): no-op ``up`` of 200 runs vs 200
  trivial dynamic resources, and the CPU per process, per provider call and per SDK function

Everything talks to a ``datagol-emulator`` process on 127.0.0.1 only.
"""
