"""``metakb.run``: the public import path of the workflow :mod:`metakb.workflows.run` (kept for
the README and existing code; the implementation lives in the workflow layer)."""

from metakb.workflows.run import (
    RunResult,
    parse_config,
    run_configuration,
)

__all__ = ['RunResult', 'parse_config', 'run_configuration']
