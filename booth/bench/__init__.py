"""`booth bench NAME`: measurements a tech lead can run on their own rig."""
