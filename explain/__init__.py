"""Explainability: SHAP explanations, model cards and the AI-risk (clause 7.3) report."""
