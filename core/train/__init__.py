"""Training: the resumable trainer (trainer.py) with its declared protocols, metrics,
optimizers by name, callbacks and the probe that looks inside a run without
changing it; language-model data and objective (lm.py); slots and devices."""
