"""Training: the resumable trainer, its data batches, objectives, optimizers, slots and devices."""
