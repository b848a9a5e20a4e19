"""Yibao (医保): an open platform for provincial basic medical insurance (基本医疗保险)."""

__version__ = "0.1.0"
