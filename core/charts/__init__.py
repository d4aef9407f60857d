"""Figure builders: turn computed data into plotly figures (one module per screen)."""
