"""tinyscale: reproducible scaling-law experiments for small neural networks.

The library knows nothing about Snakemake: the workflow's scripts call it, and so can you.
"""

__version__ = "0.1.0"
