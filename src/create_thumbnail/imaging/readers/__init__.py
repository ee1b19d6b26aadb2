"""Source readers: one module per source family, each turning a file's bytes into the decoded
image the imaging path resizes."""
