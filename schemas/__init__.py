"""JSON Schemas: the spec's, exported from the models and committed."""
