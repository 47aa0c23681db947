"""The training engine: recipes, the one loop (K ≥ 1 runs of one configuration), augmentation,
checkpoints, stop signals, speed switches, devices and predictions."""
