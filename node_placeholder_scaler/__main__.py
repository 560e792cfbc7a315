"""python -m node_placeholder_scaler"""

from .cli import main

raise SystemExit(main())
