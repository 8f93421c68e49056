"""``python -m eduscribe_server`` is ``eduscribe-server``."""

from .cli import main

main()
