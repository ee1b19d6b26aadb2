"""A seeded fuzz test of the image path: a fixed set of mutated images of every source format
through make_thumbnails, every one of them run, each in a worker process and judged on what it
raised and on its memory (limits.py); time is printed, and only a hang fails. test_fuzz.py runs
it; reproduce.py replays one input by its name; decoder_peaks.py measures what the memory
budget's per-decoder figures are fitted to."""
