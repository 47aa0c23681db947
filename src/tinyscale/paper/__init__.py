"""The paper: figures (one module each), Jinja2 rendering with LaTeX-safe delimiters, offline compile."""
