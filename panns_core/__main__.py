import sys

from panns_core.cli import main

sys.exit(main())
