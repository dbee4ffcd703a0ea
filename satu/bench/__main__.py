import sys

from satu.bench import main

sys.exit(main())
