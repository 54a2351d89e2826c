"""Fault-injection runs against the real stack (``make faults``); see faults/run.py."""
