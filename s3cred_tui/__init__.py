"""s3cred-tui: least-privilege AWS credentials for S3, made easy and safe."""

__version__ = "0.1.0"
# The command people type: in usage lines and in the commands the app and the CLI suggest.
PROG = "s3cred-tui"
