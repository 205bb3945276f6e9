"""`smoke lint`: the incident's bug classes, caught offline from manifests and the suite."""
