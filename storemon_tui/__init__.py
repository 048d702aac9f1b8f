"""storemon: business-hours uptime and downtime of every store, from raw status polls."""

__version__ = "0.1.0"
