"""Inference engines behind one protocol, model folders, model builds and devices."""
