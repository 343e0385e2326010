"""The service's jobs, one module each: each is a function of the ``Runtime`` it runs in."""
