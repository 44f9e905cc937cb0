import sys

from cxfield.main import main

sys.exit(main())
