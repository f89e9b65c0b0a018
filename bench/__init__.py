"""Account-scale benchmarks of s3cred-tui, side by side with `s3-credentials` (`python -m bench`)."""
