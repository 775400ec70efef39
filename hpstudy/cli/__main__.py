"""``python -m hpstudy.cli``: the ``hpstudy`` command."""

import sys

from hpstudy.cli import main

sys.exit(main())
