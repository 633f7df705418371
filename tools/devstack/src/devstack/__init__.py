"""Run Lantern Shop as local processes on an embedded AWS endpoint (moto server).

Used by ``make run`` and by the integration tests, which start the very same processes.
"""

from devstack.stack import ServiceProcess, Stack, StackConfig, start_moto

__all__ = ["ServiceProcess", "Stack", "StackConfig", "start_moto"]
