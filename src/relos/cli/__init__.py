"""The `relos` command: parse, call a service, render. Nothing else."""
