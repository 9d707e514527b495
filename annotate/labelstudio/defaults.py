"""The defaults the `sitrep annotate` commands show in their help.

They live apart from the modules that use them (server, project, pull), which import the
HTTP client and the converters: the command line reads them at start-up without paying
for those imports.
"""

HEALTH_TIMEOUT = 120.0  # seconds a starting server has to answer /health
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
DEFAULT_TITLE = "sitrep"  # the Label Studio project's title
CHUNK = 500  # tasks per import request
EXPORT_TIMEOUT = 600.0  # seconds to wait for an export snapshot
ML_BACKEND_PORT = 9090  # the port label-studio-ml-backend's examples use
KEEP_EXPORTS = 3  # exports a pull keeps per project, compressed; the newest always
