"""Evaluation: datasets in standard layouts, metrics (FMR/FNMR, APCER/BPCER, CER), fairness, benchmarks."""
