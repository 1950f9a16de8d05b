"""The application: pipeline, store, executors, CLI and report.

The only package that imports the others.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("speech-profile")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
