"""Renderers: one module per output format. A renderer prints; it never calls the network."""
