import sys

from panns_core.cli.main import main

sys.exit(main())
