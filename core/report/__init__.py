"""The validation evidence pack: one document a model validator can sign off.

Sections follow supervisory model-risk guidance (SR 11-7 / SR 26-2): purpose and use, data,
conceptual soundness, outcomes analysis, benchmarking, ongoing monitoring, limitations,
governance record and reproducibility. `sections` gathers every number from the existing core
functions into a plain data model (`pack`), `render` fills the autoescaped Jinja2 templates in
templates/ to make one self-contained file (plotly inlined), `pdf` prints it with headless
Chromium, `freeze` stores it with a promotion.
"""
