"""What auditors and donors run: the offline verifier and the stored-log verifier."""
