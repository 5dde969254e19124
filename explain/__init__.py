"""SHAP explanations, model cards and the AI-risk (seed 7.3) report (DESIGN.md §2).

``tree`` explains gradient-boosted models exactly (TreeExplainer), ``cnn`` gives pixel heat maps for
networks (GradientExplainer), ``kernel`` explains any function of named sub-scores (KernelExplainer),
``decision`` is the final verification decision those sub-scores feed, ``report`` renders one HTML report
per model version and ``record`` turns a response's decision evidence into a reviewer-readable record.
"""
