"""`thumbnail-local invoke`: `sam local invoke` without Docker, and the objects its event names."""
