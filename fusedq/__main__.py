"""python -m fusedq: same as the `fusedq` console script."""
import sys

from .cli import main

sys.exit(main())
