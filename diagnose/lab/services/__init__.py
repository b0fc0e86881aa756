"""The lab's services: one module per service, each answering from the shared state."""
