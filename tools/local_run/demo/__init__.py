"""`thumbnail-local demo` (./scripts/demo): sample uploads through the handler on the embedded S3,
the report, the contact sheet and the gallery checked in headless Chromium."""
