"""Pure domain model of relos: entities, rules and posting rules. Imports no I/O."""
