"""s3cred-tui: least-privilege AWS credentials for S3, made easy and safe."""

__version__ = "0.1.0"
