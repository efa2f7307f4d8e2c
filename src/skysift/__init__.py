"""skysift: find transients and anomalies in ZTF data-release light curves."""

__version__ = "0.1.0"
