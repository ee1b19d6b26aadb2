"""thumbnail-local enable-eventbridge: EventBridge notifications on for a bucket made elsewhere."""
