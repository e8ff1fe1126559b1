import sys

from llamo.cli import main

sys.exit(main())
