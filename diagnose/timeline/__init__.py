"""What changed, who, and when: the services' own records lined up into one timeline."""
