"""``python -m hpstudy``: the ``hpstudy`` command."""

import sys

from hpstudy.cli import main

sys.exit(main())
