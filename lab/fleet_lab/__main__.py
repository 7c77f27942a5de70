import sys

from fleet_lab.cli import main

sys.exit(main())
