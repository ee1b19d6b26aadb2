"""What the function is fed locally: photo-like sample images, ICC profiles, the imaging grid,
hostile files, and S3-shaped events. The tests and benchmarks use them too."""
