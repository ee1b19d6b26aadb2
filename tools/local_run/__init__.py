"""Laptop-side tooling: the embedded S3, sample images, S3-shaped events and the demo.

Lives outside src/ because template.yaml's CodeUri (src/) is exactly what ships to Lambda.
"""
