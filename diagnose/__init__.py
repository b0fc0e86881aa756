"""diagnose: find out why Adobe Journey Optimizer API-triggered campaigns fail on Azure."""

__version__ = "0.1.0"
