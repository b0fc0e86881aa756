"""The fleet: every Cosmos DB account with a customer-managed key that Resource Graph finds,
checked in one run (`diagnose run --all`): inventory, shared reads, scheduling, baselines."""
