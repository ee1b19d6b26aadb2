"""`thumbnail-local backfill`: thumbnails for objects that were in the bucket before the stack."""
