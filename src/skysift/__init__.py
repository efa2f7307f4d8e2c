"""skysift: find transients and anomalies in ZTF data-release light curves."""

from importlib.metadata import PackageNotFoundError, version

try:  # the version lives in pyproject.toml only
    __version__ = version("skysift")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
