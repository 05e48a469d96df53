"""Sub-commands of the ``terrasense`` CLI, one module each (see :mod:`ts_instruct.cli`)."""
