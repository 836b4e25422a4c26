"""Test-only peers of the remote policy: an openpi-behaving server and a fault-injecting TCP proxy."""
