"""The running log: group commit, checkpoints, keys, witnesses, tiles."""
