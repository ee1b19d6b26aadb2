"""CreateThumbnail: S3 ObjectCreated events in, resized copies in a separate bucket out."""
