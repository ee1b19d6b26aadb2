"""A bounded, seeded fuzz test of the image path: mutated images of every source format through
make_thumbnails, each in a worker process under the time, memory and address-space bounds of
limits.py. test_fuzz.py runs it; reproduce.py replays one input by its name."""
