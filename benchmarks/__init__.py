"""Side-by-side benchmarks of muster against AutoGen 0.7.5 (``make bench``)."""
