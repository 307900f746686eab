"""Training on packed AudioSet data: pack files, dataset, samplers, mixup, the one loop (`python -m train` runs it)."""
